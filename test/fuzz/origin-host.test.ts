import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { createEdgeGuard, type EdgeGuardOptions } from "../../src/http/edge-guard.js";
import type { McpHost } from "../../src/index.js";
import { MCP_HEADERS, rpc, testHost } from "../fixtures/hosts.js";
import { edgeAgreesWithReference, hostValue, originValue, referenceEdge } from "./properties.js";
import {
  FAMILY_MINIMUM,
  Tally,
  assertRejectionBody,
  holds,
  isHeaderValue,
  normalizedHeaderValue,
  scaled,
} from "./support.js";

/*
 * Fuzzing the DNS-rebinding defence (docs/pipeline.md stage 2, docs/security.md row 6): the edge
 * guard against a reference predicate for the Host allow-list (RFC 7230 §5.4) and the Origin rule,
 * directly with raw header bytes and end to end through `host.fetch` for three configurations.
 */

const tally = new Tally();

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/** Each configuration with the allow-lists its documented defaults give (written out, not derived). */
const CONFIGS: readonly { name: string; server: Record<string, unknown>; expected: EdgeGuardOptions }[] = [
  {
    name: "resourceHost https://mcp.contoso.com",
    server: { resourceHost: "https://mcp.contoso.com" },
    expected: {
      // Loopback names stay allowed next to resourceHost's host (local probes and port-forwards).
      allowedHosts: new Set([...LOOPBACK, "mcp.contoso.com"]),
      allowedOrigins: new Set(["https://mcp.contoso.com"]),
      allowLoopbackOrigins: false,
      stateful: false,
      maxBodyBytes: 1_000_000,
    },
  },
  {
    name: "defaults (local development)",
    server: {},
    expected: {
      allowedHosts: new Set(LOOPBACK),
      allowedOrigins: new Set(),
      allowLoopbackOrigins: true,
      stateful: false,
      maxBodyBytes: 1_000_000,
    },
  },
  {
    name: "explicit allowedHosts and allowedOrigins",
    server: { allowedHosts: ["KESTREL.example"], allowedOrigins: ["https://Kestrel.example"] },
    expected: {
      allowedHosts: new Set(["kestrel.example"]),
      allowedOrigins: new Set(["https://kestrel.example"]),
      allowLoopbackOrigins: false,
      stateful: false,
      maxBodyBytes: 1_000_000,
    },
  },
];

describe("fuzz: Host and Origin checks", () => {
  it("the edge guard refuses exactly what the reference refuses, with the documented 403 body", async () => {
    await holds(tally, edgeAgreesWithReference(createEdgeGuard), 7_000);
  });

  const hosts: McpHost[] = [];
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.close()));
  });

  for (const config of CONFIGS) {
    it(`end to end (${config.name}): 403 exactly when the reference refuses, never a 5xx`, async () => {
      const { host } = testHost({
        server: { ...config.server, maxRequestsPerMinutePerClientAddress: 0 },
        telemetry: { logLevel: "silent", auditLog: "off" },
      });
      hosts.push(host);
      const input = fc.record({
        host: hostValue.filter(isHeaderValue),
        origin: fc.option(originValue.filter(isHeaderValue), { nil: undefined, freq: 3 }),
      });
      await holds(
        tally,
        fc.asyncProperty(input, async ({ host: hostHeader, origin }) => {
          const headers: Record<string, string> = { ...MCP_HEADERS, host: hostHeader };
          if (origin !== undefined) headers["origin"] = origin;
          const response = await host.fetch(
            new Request("http://localhost/mcp", { method: "POST", headers, body: rpc("ping") }),
          );
          const expected = referenceEdge(
            normalizedHeaderValue(hostHeader),
            origin === undefined ? undefined : normalizedHeaderValue(origin),
            config.expected,
          );
          const text = await response.text();
          if (expected === "pass") {
            expect(response.status, text).toBe(200);
            return;
          }
          expect(response.status).toBe(403);
          expect(assertRejectionBody(text, { codes: [-32000], reasons: [expected] }).id).toBeNull();
        }),
        1_000,
      );
    });
  }

  it(`ran at least ${FAMILY_MINIMUM} cases`, () => {
    expect(tally.cases).toBeGreaterThanOrEqual(scaled(FAMILY_MINIMUM));
  });
});
