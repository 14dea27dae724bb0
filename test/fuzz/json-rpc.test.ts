import fc from "fast-check";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BodyReply, Reply } from "../../src/http/exchange.js";
import type { McpHost } from "../../src/index.js";
import { parseMessage, type ParsedMessage } from "../../src/mcp/parse.js";
import { MCP_HEADERS, echo, greeting, readme, rpc, structured, testHost } from "../fixtures/hosts.js";
import {
  FAMILY_MINIMUM,
  Tally,
  anyText,
  assertRejectionBody,
  fakeRequest,
  holds,
  scaled,
} from "./support.js";

/*
 * Fuzzing stage 8 (docs/pipeline.md): the JSON-RPC parser and the protocol-version check, directly
 * (raw text, raw header values) and end to end (arbitrary bytes as POST bodies through
 * `host.fetch`): a documented 400 or a valid dispatch, never a throw, never a 5xx.
 */

const tally = new Tally();

/** Stage 8's documented JSON-RPC codes and reasons (docs/pipeline.md, src/http/responses.ts). */
const PARSE_CODES = [-32700, -32600, -32602, -32020, -32000];
const PARSE_REASONS = [
  "parse_error",
  "invalid_request",
  "batch_not_supported",
  "unsupported_protocol_version",
  "header_mismatch",
];
const SUPPORTED: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS;
const MODERN = "2026-07-28";

const METHODS = [
  "ping",
  "initialize",
  "tools/list",
  "tools/call",
  "prompts/list",
  "prompts/get",
  "resources/list",
  "resources/read",
  "resources/templates/list",
  "completion/complete",
  "logging/setLevel",
  "server/discover",
  "notifications/initialized",
  "notifications/cancelled",
  "no/such/method",
  "",
];

const meta = fc.record(
  {
    "io.modelcontextprotocol/protocolVersion": fc.constantFrom(MODERN, "2025-11-25", "x", 5),
    "io.modelcontextprotocol/clientCapabilities": fc.constantFrom({}, null, "x"),
    "io.modelcontextprotocol/clientInfo": fc.constantFrom({ name: "f", version: "1" }, {}, 1),
  },
  { requiredKeys: [] },
);

const params = fc.oneof(
  fc.record(
    {
      name: fc.oneof(fc.constantFrom("echo", "add", "greeting", "nope"), anyText(12)),
      uri: fc.constantFrom("docs://readme", "docs://none", "", "file:///etc/passwd"),
      arguments: fc.oneof(
        fc.record({ text: anyText(30) }),
        fc.record({ a: fc.double(), b: fc.oneof(fc.double(), fc.string()) }),
        fc.record({ name: anyText(10) }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      protocolVersion: fc.constantFrom(...SUPPORTED, MODERN, "1999-01-01"),
      capabilities: fc.constant({}),
      clientInfo: fc.constant({ name: "fuzz", version: "1" }),
      level: fc.constantFrom("debug", "info", "bogus"),
      _meta: meta,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

/** JSON-RPC-shaped objects: every member present or not, right or wrong type. */
const message = fc.record(
  {
    jsonrpc: fc.constantFrom("2.0", "2.0", "2.0", "2.0", "1.0", 2, null),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.double(), fc.constant({})),
    method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...METHODS) }, anyText(10), fc.integer()),
    params,
    result: fc.jsonValue({ maxDepth: 1 }),
    error: fc.record({ code: fc.integer(), message: fc.string() }),
  },
  { requiredKeys: [] },
);

/** POST bodies: JSON-RPC-shaped messages, batches, any JSON, any text. */
const bodyText = fc.oneof(
  { weight: 6, arbitrary: message.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.array(message, { maxLength: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: anyText(60) },
  { weight: 1, arbitrary: message.map((value) => JSON.stringify(value).slice(0, -1)) },
);

const versionHeader = fc.option(
  fc.oneof(
    fc.constantFrom(...SUPPORTED, MODERN),
    fc.constantFrom("2025-11-26", "2024-01-01", "2099-12-31", ""),
    anyText(20),
  ),
  { nil: undefined, freq: 3 },
);

function isParsed(value: ParsedMessage | Reply): value is ParsedMessage {
  return "era" in value;
}

/** A rejection must be a complete JSON answer (a BodyReply). */
function asBody(value: Reply): BodyReply {
  if (value.kind !== "body") throw new Error(`a ${value.kind} reply where a rejection was expected`);
  return value;
}

/** What the body's id is, when a rejection could read it (docs/pipeline.md "Rejection bodies"). */
function readableId(text: string): string | number | null {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
    const id = (body as { id?: unknown }).id;
    return typeof id === "string" || typeof id === "number" ? id : null;
  } catch {
    return null;
  }
}

describe("fuzz: JSON-RPC parser and protocol version", () => {
  it("parseMessage: any body and version header → a parsed message or a documented 400, never a throw", async () => {
    await holds(
      tally,
      fc.property(bodyText, versionHeader, (text, version) => {
        const headers: [string, string][] = version === undefined ? [] : [["mcp-protocol-version", version]];
        const outcome = parseMessage(fakeRequest({ headers }), text);
        let parsed: unknown;
        let json = true;
        try {
          parsed = JSON.parse(text);
        } catch {
          json = false;
        }
        if (isParsed(outcome)) {
          // Only a JSON-RPC 2.0 object gets through, and only with a version the server speaks.
          expect(json && typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)).toBe(true);
          expect((parsed as { jsonrpc?: unknown }).jsonrpc).toBe("2.0");
          if (outcome.era === "legacy" && version !== undefined) expect(SUPPORTED).toContain(version);
          return;
        }
        const reply = asBody(outcome);
        expect(reply.status).toBe(400);
        expect(reply.headers["content-type"]).toBe("application/json");
        const body = assertRejectionBody(reply.body ?? "", { codes: PARSE_CODES, reasons: PARSE_REASONS });
        if (!json) expect([body.error.code, body.error.data.reason]).toEqual([-32700, "parse_error"]);
        else if (Array.isArray(parsed))
          expect([body.error.code, body.error.data.reason]).toEqual([-32600, "batch_not_supported"]);
        else if (
          typeof parsed !== "object" ||
          parsed === null ||
          (parsed as { jsonrpc?: unknown }).jsonrpc !== "2.0"
        )
          expect([body.error.code, body.error.data.reason]).toEqual([-32600, "invalid_request"]);
        expect(body.id).toBe(readableId(text));
      }),
      6_000,
    );
  });

  it("a 2025-era request passes with no MCP-Protocol-Version or a supported one, and gets 400 with any other", async () => {
    const requests = fc.constantFrom(
      rpc("ping"),
      rpc("tools/list"),
      rpc("tools/call", { name: "echo", arguments: { text: "x" } }),
      rpc("resources/read", { uri: "docs://readme" }),
    );
    await holds(
      tally,
      fc.property(requests, versionHeader, (text, version) => {
        const headers: [string, string][] = version === undefined ? [] : [["mcp-protocol-version", version]];
        const outcome = parseMessage(fakeRequest({ headers }), text);
        if (version === undefined || SUPPORTED.includes(version)) {
          expect(isParsed(outcome)).toBe(true);
          return;
        }
        if (isParsed(outcome)) throw new Error(`unsupported version ${JSON.stringify(version)} accepted`);
        const reply = asBody(outcome);
        expect(reply.status).toBe(400);
        // The SDK reads a version it does not know as a claim to a later era, whose envelope is missing (-32602).
        assertRejectionBody(reply.body ?? "", {
          codes: [-32000, -32602],
          reasons: ["unsupported_protocol_version", "invalid_request"],
        });
      }),
      3_000,
    );
  });

  describe("end to end through host.fetch", () => {
    let host: McpHost;
    beforeAll(() => {
      ({ host } = testHost(
        {
          server: { maxRequestsPerMinutePerClientAddress: 0 },
          telemetry: { logLevel: "silent", auditLog: "off" },
        },
        { tools: [echo, structured], resources: [readme], prompts: [greeting] },
      ));
    });
    afterAll(async () => {
      await host.close();
    });

    it("any body (text or bytes) → a JSON-RPC answer or a documented 400, never a 5xx", async () => {
      const body = fc.oneof(
        { weight: 8, arbitrary: bodyText },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
      );
      await holds(
        tally,
        fc.asyncProperty(body, async (payload) => {
          const response = await host.fetch(
            new Request("http://localhost/mcp", { method: "POST", headers: MCP_HEADERS, body: payload }),
          );
          const text = await response.text();
          const type = response.headers.get("content-type") ?? "";
          // (No `return expect(…)`: a property that returns anything but true or undefined fails.)
          if (response.status === 202) {
            expect(text).toBe("");
            return;
          }
          if (response.status === 200) {
            if (type.startsWith("text/event-stream")) {
              expect(text).toMatch(/^(event|id|data|retry|:)/m);
              return;
            }
            const answer = JSON.parse(text) as { jsonrpc?: unknown; result?: unknown; error?: unknown };
            expect(answer.jsonrpc).toBe("2.0");
            expect("result" in answer || "error" in answer).toBe(true);
            return;
          }
          expect(response.status, text).toBe(400);
          assertRejectionBody(text, { codes: PARSE_CODES, reasons: PARSE_REASONS });
        }),
        1_500,
      );
    });
  });

  it(`ran at least ${FAMILY_MINIMUM} cases`, () => {
    expect(tally.cases).toBeGreaterThanOrEqual(scaled(FAMILY_MINIMUM));
  });
});
