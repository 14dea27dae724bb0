import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BodyReply, Reply } from "../../src/http/exchange.js";
import { InvalidTokenError, type McpHost, type TokenValidator } from "../../src/index.js";
import { parseMessage, type ParsedMessage } from "../../src/mcp/parse.js";
import { MemoryEventStore } from "../../src/sessions/memory-event-store.js";
import { MCP_HEADERS, echo, modernRpc, rpc, testHost } from "../fixtures/hosts.js";
import {
  FAMILY_MINIMUM,
  Tally,
  anyText,
  assertRejectionBody,
  fakeRequest,
  holds,
  isHeaderValue,
  scaled,
} from "./support.js";

/*
 * Fuzzing the MCP request headers: the 2026-07-28 standard headers `Mcp-Method` / `Mcp-Name`
 * (SEP-2243) against a reference of the header/body agreement rule, directly; and, end to end in
 * stateful mode (`server.stateless: false`), arbitrary `Mcp-Session-Id` and `Last-Event-ID` values
 * from the session's owner and from another user: documented 400/404 answers, never a 5xx, never
 * another user's session.
 */

const tally = new Tally();
const MODERN = "2026-07-28";

// --- Mcp-Method / Mcp-Name --------------------------------------------------------------------------

/** The body member `Mcp-Name` mirrors, per method (SEP-2243). */
const NAME_SOURCE: Readonly<Record<string, "name" | "uri">> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
};
const METHODS = [
  "tools/call",
  "prompts/get",
  "resources/read",
  "tools/list",
  "prompts/list",
  "resources/list",
];

const withoutOws = (value: string): string => value.replace(/^[\t ]+|[\t ]+$/g, "");
const sentinel = (text: string): string => `=?base64?${Buffer.from(text).toString("base64")}?=`;

/** SEP-2243: a value may carry UTF-8 text as `=?base64?<canonical base64>?=`; `undefined` when broken. */
function referenceDecode(value: string): string | undefined {
  if (!(value.startsWith("=?base64?") && value.endsWith("?=") && value.length >= 11)) return value;
  const payload = value.slice("=?base64?".length, -"?=".length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(payload, "base64");
  if (bytes.toString("base64") !== payload) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

interface HeaderCase {
  readonly method: string;
  readonly name: string;
  readonly version: string | undefined;
  readonly methodHeader: string | undefined;
  readonly nameHeader: string | undefined;
}

/** The headers agree with the body: all three present, `Mcp-Method` the method, `Mcp-Name` its name or URI. */
function referenceAgrees(input: HeaderCase): boolean {
  if (input.version === undefined || input.methodHeader === undefined) return false;
  if (withoutOws(input.methodHeader) !== input.method) return false;
  if (NAME_SOURCE[input.method] === undefined) return true;
  if (input.nameHeader === undefined) return false;
  return referenceDecode(withoutOws(input.nameHeader)) === input.name;
}

const blank = fc.constantFrom(" ", "\t", "\u00a0", "\u3000", "\ufeff", "\u200b");
const headerCase: fc.Arbitrary<HeaderCase> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    name: fc.oneof(fc.constantFrom("echo", "greeting", "docs://readme", "ünïcödé", "a b"), anyText(15)),
    version: fc.option(fc.constant(MODERN), { nil: undefined, freq: 12 }),
    methodStyle: fc.constantFrom(
      "same",
      "same",
      "same",
      "same",
      "absent",
      "case",
      "padded",
      "blank",
      "other",
      "junk",
    ),
    nameStyle: fc.constantFrom(
      "same",
      "same",
      "same",
      "sentinel",
      "sentinel",
      "absent",
      "case",
      "padded",
      "blank",
      "other",
      "otherSentinel",
      "brokenSentinel",
      "junk",
    ),
    pad: blank,
    junk: anyText(20),
    other: fc.constantFrom(...METHODS, "tools/call ", "TOOLS/CALL", "echo"),
  })
  .chain((draw) =>
    fc.tuple(fc.constant(draw), fc.mixedCase(fc.constant(draw.method)), fc.mixedCase(fc.constant(draw.name))),
  )
  .map(([draw, casedMethod, casedName]) => {
    const methodHeader = {
      same: draw.method,
      absent: undefined,
      case: casedMethod,
      padded: ` ${draw.method}\t`,
      blank: `${draw.pad}${draw.method}`,
      other: draw.other,
      junk: draw.junk,
    }[draw.methodStyle];
    const nameHeader = {
      same: draw.name,
      sentinel: sentinel(draw.name),
      absent: undefined,
      case: casedName,
      padded: ` ${draw.name} `,
      blank: `${draw.name}${draw.pad}`,
      other: `${draw.name}x`,
      otherSentinel: sentinel(`${draw.name}x`),
      brokenSentinel: sentinel(draw.name)
        .replace(/=+\?=$/, "?=")
        .replace("?base64?", "?base64?*"),
      junk: draw.junk,
    }[draw.nameStyle];
    return { method: draw.method, name: draw.name, version: draw.version, methodHeader, nameHeader };
  });

function bodyFor(method: string, name: string): string {
  const field = NAME_SOURCE[method];
  if (field === "uri") return modernRpc(method, { uri: name });
  if (field === "name") return modernRpc(method, { name, arguments: {} });
  return modernRpc(method);
}

function isParsed(value: ParsedMessage | Reply): value is ParsedMessage {
  return "era" in value;
}

/** A rejection must be a complete JSON answer (a BodyReply). */
function asBody(value: Reply): BodyReply {
  if (value.kind !== "body") throw new Error(`a ${value.kind} reply where a rejection was expected`);
  return value;
}

// --- Sessions -------------------------------------------------------------------------------------

/** Tokens "user-a" and "user-b": two principals of one tenant. */
const validator: TokenValidator = {
  validate(token) {
    const id = token === "user-a" ? "t1:a" : token === "user-b" ? "t1:b" : undefined;
    if (id === undefined) return Promise.reject(new InvalidTokenError("unknown"));
    return Promise.resolve({
      principal: { id, tenantId: "t1", scopes: [], roles: [], isAppOnly: false, claims: {} },
      expiresAt: Date.now() / 1000 + 3600,
    });
  },
};

const LEGACY = "2025-11-25";
const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: "fuzz", version: "1" } },
});
const SESSION_CODES = [-32001, -32000];
const SESSION_REASONS = ["session_not_found", "session_required", "invalid_request"];

describe("fuzz: MCP headers", () => {
  it("Mcp-Method / Mcp-Name: accepted exactly when they agree with the body, otherwise 400 -32020 header_mismatch", async () => {
    await holds(
      tally,
      fc.property(headerCase, (input) => {
        const headers: [string, string][] = [];
        if (input.version !== undefined) headers.push(["mcp-protocol-version", input.version]);
        if (input.methodHeader !== undefined) headers.push(["mcp-method", input.methodHeader]);
        if (input.nameHeader !== undefined) headers.push(["mcp-name", input.nameHeader]);
        const outcome = parseMessage(fakeRequest({ headers }), bodyFor(input.method, input.name));
        const agrees = referenceAgrees(input);
        if (isParsed(outcome)) {
          if (!agrees) throw new Error("headers that disagree with the body were accepted");
          expect(outcome.era).toBe("modern");
          return;
        }
        const reply = asBody(outcome);
        if (agrees) throw new Error(`agreeing headers refused: ${reply.body ?? ""}`);
        expect(reply.status).toBe(400);
        const body = assertRejectionBody(reply.body ?? "", {
          codes: [-32020],
          reasons: ["header_mismatch"],
        });
        expect(body.id).toBe(1);
      }),
      7_000,
    );
  });

  it("Last-Event-ID in the session's event store: any id resolves only to a stream of this session, replays only its events", async () => {
    const streams = ["_GET_stream", "req-1", "a.b"];
    const store = new MemoryEventStore();
    const issued: { id: string; stream: string }[] = [];
    for (let n = 0; n < 9; n++) {
      const stream = streams[n % streams.length] ?? "";
      issued.push({
        id: await store.storeEvent(stream, { jsonrpc: "2.0", method: "m", params: { n } }),
        stream,
      });
    }
    const eventId = fc.oneof(
      fc.constantFrom(...issued.map((event) => event.id)),
      fc
        .tuple(
          fc.constantFrom(...streams, "req-2", "", "."),
          fc.constantFrom(".", "_", ""),
          fc.oneof(fc.nat({ max: 20 }).map(String), anyText(4)),
        )
        .map(([stream, dot, n]) => stream + dot + n),
      anyText(30),
    );
    await holds(
      tally,
      fc.asyncProperty(eventId, async (id) => {
        const stream = await store.getStreamIdForEventId(id);
        if (stream !== undefined) {
          expect(streams).toContain(stream);
          expect(id.startsWith(`${stream}.`)).toBe(true);
        }
        const sent: string[] = [];
        const replayed = await store.replayEventsAfter(id, {
          send: (sentId) => {
            sent.push(sentId);
            return Promise.resolve();
          },
        });
        expect(replayed).toBe(stream ?? "");
        const known = issued.findIndex((event) => event.id === id);
        const expected = known < 0 ? [] : issued.slice(known + 1).filter((event) => event.stream === stream);
        expect(sent).toEqual(expected.map((event) => event.id));
      }),
      2_000,
    );
  });

  describe("stateful sessions end to end: Mcp-Session-Id and Last-Event-ID", () => {
    let host: McpHost;
    let session: string;
    /** Event ids this session really issued (from the initialize stream). */
    const eventIds: string[] = [];

    beforeAll(async () => {
      ({ host } = testHost(
        {
          server: {
            stateless: false,
            maxRequestsPerMinutePerClientAddress: 0,
            maxRequestsPerMinutePerUser: 0,
          },
          telemetry: { logLevel: "silent", auditLog: "off" },
        },
        { tokenValidator: validator, insecureNoAuth: undefined as never, tools: [echo] },
      ));
      const response = await post("user-a", INITIALIZE, undefined);
      expect(response.status).toBe(200);
      const text = await response.text();
      session = response.headers.get("mcp-session-id") ?? "";
      expect(session).not.toBe("");
      for (const match of text.matchAll(/^id: (.+)$/gm)) if (match[1] !== undefined) eventIds.push(match[1]);
      expect(eventIds.length).toBeGreaterThan(0);
    });
    afterAll(async () => {
      await host.close();
    });

    function post(token: string, body: string, sessionId: string | undefined): Promise<Response> {
      const headers: Record<string, string> = {
        ...MCP_HEADERS,
        authorization: `Bearer ${token}`,
        "mcp-protocol-version": LEGACY,
      };
      if (sessionId !== undefined) headers["mcp-session-id"] = sessionId;
      return host.fetch(new Request("http://localhost/mcp", { method: "POST", headers, body }));
    }

    /** Session ids: the real one, near misses of it, and anything else a header can carry. */
    const sessionId = (real: () => string): fc.Arbitrary<string> =>
      fc.oneof(
        { weight: 2, arbitrary: fc.constant(null).map(() => real()) },
        {
          weight: 4,
          arbitrary: fc
            .tuple(fc.nat(), fc.constantFrom("flip", "append", "truncate", "case", "pad"))
            .map(([at, how]) => {
              const id = real();
              const index = at % id.length;
              const char = id[index] ?? "a";
              switch (how) {
                case "flip":
                  return id.slice(0, index) + (char === "A" ? "B" : "A") + id.slice(index + 1);
                case "append":
                  return `${id}A`;
                case "truncate":
                  return id.slice(0, index);
                case "case":
                  return id.toUpperCase() === id ? id.toLowerCase() : id.toUpperCase();
                default:
                  return `${id}\u00a0`;
              }
            }),
        },
        { weight: 2, arbitrary: anyText(40) },
        {
          weight: 1,
          arbitrary: fc.string({
            unit: fc.constantFrom(...Array.from("ABCabc019_-")),
            minLength: 16,
            maxLength: 130,
          }),
        },
      );

    it("POST with any Mcp-Session-Id: only its owner with the exact id reaches the session; others get the documented 404", async () => {
      const input = fc.record({
        user: fc.constantFrom("user-a", "user-b"),
        id: sessionId(() => session).filter((value) => isHeaderValue(value) && value.trim() !== ""),
      });
      await holds(
        tally,
        fc.asyncProperty(input, async ({ user, id }) => {
          const response = await post(
            user,
            rpc("tools/call", { name: "echo", arguments: { text: "in" } }, 7),
            id,
          );
          const text = await response.text();
          const reaches = user === "user-a" && id.replace(/^[\t ]+|[\t ]+$/g, "") === session;
          if (reaches) {
            expect(response.status, text).toBe(200);
            return;
          }
          expect(response.status, text).toBe(404);
          assertRejectionBody(text, { codes: SESSION_CODES, reasons: SESSION_REASONS });
        }),
        700,
      );
    });

    it("GET with any Last-Event-ID: the owner gets a stream or a documented 400, another user the documented 404", async () => {
      const lastEventId = fc.oneof(
        fc.constant(null).map(() => eventIds[0] ?? ""),
        fc.constantFrom("0", "", "_0", ".1", "a.b.c", "x".repeat(300)),
        fc.nat({ max: 50 }).map((n) => `${(eventIds[0] ?? "").replace(/\.\d+$/, "")}.${n}`),
        fc.constant(null).map(() => `${session}_0`),
        anyText(40),
      );
      const input = fc.record({
        user: fc.constantFrom("user-a", "user-b"),
        lastEventId: lastEventId.filter(isHeaderValue),
      });
      await holds(
        tally,
        fc.asyncProperty(input, async ({ user, lastEventId: value }) => {
          const abort = new AbortController();
          const response = await host.fetch(
            new Request("http://localhost/mcp", {
              method: "GET",
              signal: abort.signal,
              headers: {
                accept: "text/event-stream",
                authorization: `Bearer ${user}`,
                "mcp-protocol-version": LEGACY,
                "mcp-session-id": session,
                "last-event-id": value,
              },
            }),
          );
          if (response.headers.get("content-type")?.startsWith("text/event-stream") === true) {
            // Only the owner gets a stream; it is closed at once so the next case can open one.
            abort.abort();
            await response.body?.cancel().catch(() => undefined);
            expect(user).toBe("user-a");
            expect(response.status).toBe(200);
            return;
          }
          const text = await response.text();
          expect(response.status, text).toBe(user === "user-a" ? 400 : 404);
          assertRejectionBody(text, { codes: SESSION_CODES, reasons: SESSION_REASONS });
        }),
        800,
      );
    });
  });

  it(`ran at least ${FAMILY_MINIMUM} cases`, () => {
    expect(tally.cases).toBeGreaterThanOrEqual(scaled(FAMILY_MINIMUM));
  });
});
