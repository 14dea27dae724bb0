import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpHost, type McpHost } from "../../../src/index.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import { captureLogs, echo, MCP_HEADERS, rpc } from "../../fixtures/hosts.js";
import { startTokenIssuer, type TokenIssuer } from "../../fixtures/token-issuer.js";
import { installTelemetry, total, type InMemoryTelemetry } from "./support.js";

const MCP = "https://mcp.test/mcp";

let otel: InMemoryTelemetry;
let issuer: TokenIssuer;
let host: McpHost;

beforeAll(async () => {
  otel = installTelemetry();
  issuer = await startTokenIssuer();
  host = createMcpHost({
    config: { oidc: { issuer: issuer.oidcIssuer, audiences: [MCP] } },
    server: { name: "identity", version: "1" },
    tools: [echo],
    logger: createLogger({ level: "warn", serviceName: "identity", destination: captureLogs().stream }),
  });
});
afterAll(async () => {
  await host.close();
  await issuer.close();
  await otel.uninstall();
});

function call(token: string): Promise<Response> {
  return host.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
      body: rpc("tools/call", { name: "echo", arguments: { text: "hi" } }),
    }),
  );
}

describe("identity metrics of the built-in validators", () => {
  it("count validated-token cache hits and misses, and key-set fetches by outcome", async () => {
    const token = issuer.mint(issuer.oidcClaims(MCP), { header: { typ: "at+jwt" } });
    expect((await call(token)).status).toBe(200);
    expect((await call(token)).status).toBe(200);
    expect((await call(token)).status).toBe(200);
    const metrics = await otel.collect();
    const lookups = metrics.get("paved.auth.token_cache.lookups");
    expect(total(lookups, { "paved.cache.result": "miss" })).toBe(1);
    expect(total(lookups, { "paved.cache.result": "hit" })).toBe(2);
    expect(
      total(metrics.get("paved.auth.jwks.refreshes"), { "paved.outcome": "success" }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(metrics.get("paved.auth.jwks.refreshes"), { "paved.outcome": "failure" })).toBe(0);
  });

  it("a key-set fetch that fails is counted as a failure", async () => {
    issuer.down(503);
    const down = createMcpHost({
      config: {
        oidc: {
          issuer: issuer.oidcIssuer,
          audiences: [MCP],
          jwksUri: `${issuer.origin}${issuer.paths.oidcKeys}`,
        },
      },
      server: { name: "identity-down", version: "1" },
      tools: [echo],
      logger: createLogger({ level: "silent", serviceName: "identity", destination: captureLogs().stream }),
    });
    try {
      const response = await down.fetch(
        new Request("http://localhost/mcp", {
          method: "POST",
          headers: {
            ...MCP_HEADERS,
            authorization: `Bearer ${issuer.mint(issuer.oidcClaims(MCP), { header: { typ: "at+jwt" } })}`,
          },
          body: rpc("tools/list"),
        }),
      );
      expect(response.status).toBe(503);
    } finally {
      issuer.up();
      await down.close();
    }
    const metrics = await otel.collect();
    expect(
      total(metrics.get("paved.auth.jwks.refreshes"), { "paved.outcome": "failure" }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(metrics.get("paved.auth.failures"), { "paved.auth.reason": "identity_unavailable" })).toBe(
      1,
    );
  });
});
