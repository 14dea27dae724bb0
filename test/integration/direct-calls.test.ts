import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { inputRequired } from "@modelcontextprotocol/server";
import {
  createMcpHost,
  defineTool,
  ToolError,
  type McpHost,
  type McpHostOptions,
  type ToolDefinition,
} from "../../src/index.js";
import { serve, type RunningServer } from "../../src/node/index.js";
import { DirectToolCalls } from "../../src/mcp/direct-call.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs } from "../fixtures/hosts.js";

/**
 * Paved answers most tool calls itself (src/mcp/direct-call.ts) instead of through the SDK's
 * per-request machinery. The two lanes must be indistinguishable on the wire: two hosts over real
 * HTTP, one whose tools take the direct lane and one whose identical tools declare `sdkContext`
 * (so the SDK answers every call), get the same requests, in both protocol eras, and must send the
 * same JSON-RPC responses.
 */

const MODERN = "2026-07-28";
const LEGACY = "2025-11-25";
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "differential", version: "1" },
};

function catalog(sdkContext: boolean): ToolDefinition[] {
  return [
    defineTool({
      name: "echo",
      description: "Echo",
      input: { text: z.string().max(20) },
      sdkContext,
      handler: ({ text }) => text,
    }),
    defineTool({ name: "plain", description: "No input", sdkContext, handler: () => "plain" }),
    defineTool({ name: "object", description: "An object", sdkContext, handler: () => ({ a: 1, b: [2] }) }),
    defineTool({ name: "nothing", description: "Undefined", sdkContext, handler: () => undefined as never }),
    defineTool({
      name: "full",
      description: "A whole CallToolResult",
      sdkContext,
      handler: () => ({
        content: [
          { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
          { type: "text", text: "caption", annotations: { audience: ["user"], priority: 0.5 } },
        ],
        _meta: { "example.com/trace": "t-1" },
      }),
    }),
    defineTool({
      name: "structured_free",
      description: "Structured content without an output schema",
      sdkContext,
      handler: () => ({ content: [], structuredContent: { total: 3 } }),
    }),
    defineTool({
      name: "add",
      description: "Adds",
      input: { a: z.number(), b: z.number() },
      output: { sum: z.number() },
      sdkContext,
      handler: ({ a, b }) => ({ sum: a + b }),
    }),
    defineTool({
      name: "bad_output",
      description: "Breaks its output schema",
      output: { sum: z.number() },
      sdkContext,
      handler: () => ({ sum: "three" }) as never,
    }),
    defineTool({
      name: "no_structured",
      description: "Has an output schema, returns plain content",
      output: { sum: z.number() },
      sdkContext,
      handler: () => ({ content: [{ type: "text", text: "no structure" }] }),
    }),
    defineTool({
      name: "input_throws",
      description: "An input refinement that throws",
      input: {
        text: z.string().refine((text) => {
          if (text === "boom") throw new Error("refinement exploded");
          return true;
        }),
      },
      sdkContext,
      handler: ({ text }) => text,
    }),
    defineTool({
      name: "input_async",
      description: "An async input refinement",
      input: { text: z.string().refine((text) => Promise.resolve(text !== "no")) },
      sdkContext,
      handler: ({ text }) => text,
    }),
    defineTool({
      name: "output_throws",
      description: "An output refinement that throws",
      output: {
        sum: z.number().refine(() => {
          throw new Error("output refinement exploded");
        }),
      },
      sdkContext,
      handler: () => ({ sum: 1 }),
    }),
    defineTool({
      name: "refuses",
      description: "ToolError",
      sdkContext,
      handler: () => {
        throw new ToolError("No weather for Atlantis.");
      },
    }),
    defineTool({
      name: "crashes",
      description: "An internal error",
      sdkContext,
      handler: () => {
        throw new Error("secret internals");
      },
    }),
    defineTool({
      name: "whoami",
      description: "Context",
      input: { n: z.number().default(7) },
      sdkContext,
      handler: ({ n }, ctx) =>
        `${ctx.user.id} ${ctx.requestId} ${String(ctx.sessionId)} ${n} ${ctx.signal.aborted}`,
    }),
  ];
}

interface Side {
  host: McpHost;
  running: RunningServer;
}

async function start(sdkContext: boolean): Promise<Side> {
  const host = createMcpHost({
    server: { name: "differential", version: "1.0.0" },
    tools: catalog(sdkContext),
    insecureNoAuth: true,
    config: { telemetry: { logLevel: "silent", auditLog: "off" } },
  });
  return { host, running: await serve(host, { port: 0, handleSignals: false }) };
}

let direct: Side;
let sdk: Side;
beforeAll(async () => {
  [direct, sdk] = await Promise.all([start(false), start(true)]);
});
afterAll(async () => {
  await Promise.all([direct.running.close(), sdk.running.close()]);
});

async function post(side: Side, era: string, params: Record<string, unknown>) {
  const modern = era === MODERN;
  const name = typeof params["name"] === "string" ? params["name"] : undefined;
  const response = await fetch(side.running.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": era,
      "x-request-id": "differential-1",
      ...(modern && { "mcp-method": "tools/call", ...(name !== undefined && { "mcp-name": name }) }),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: "client-id-7",
      method: "tools/call",
      params: modern ? { ...params, _meta: { ...ENVELOPE, ...(params["_meta"] as object) } } : params,
    }),
  });
  const text = await response.text();
  const body: unknown = response.headers.get("content-type")?.includes("text/event-stream")
    ? JSON.parse(
        text
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .at(-1)
          ?.slice(5) ?? "null",
      )
    : JSON.parse(text);
  return { status: response.status, body };
}

const CASES: [string, Record<string, unknown>][] = [
  ["a text result", { name: "echo", arguments: { text: "hello" } }],
  ["arguments the schema does not know (stripped)", { name: "echo", arguments: { text: "hi", extra: 1 } }],
  ["arguments the schema refuses", { name: "echo", arguments: { text: 5 } }],
  ["too long an argument", { name: "echo", arguments: { text: "x".repeat(30) } }],
  ["missing arguments", { name: "echo" }],
  ["arguments that are not an object", { name: "echo", arguments: ["hello"] }],
  ["no input schema", { name: "plain" }],
  ["no input schema, arguments given", { name: "plain", arguments: { any: true } }],
  ["an object returned", { name: "object", arguments: {} }],
  ["undefined returned", { name: "nothing" }],
  ["a whole CallToolResult with _meta", { name: "full" }],
  ["structuredContent without an output schema", { name: "structured_free" }],
  ["an output schema, valid", { name: "add", arguments: { a: 1, b: 2 } }],
  ["an output schema, broken by the handler", { name: "bad_output" }],
  ["an output schema, no structured content", { name: "no_structured" }],
  ["an input refinement that throws", { name: "input_throws", arguments: { text: "boom" } }],
  ["an input refinement that passes", { name: "input_throws", arguments: { text: "fine" } }],
  ["an async input refinement", { name: "input_async", arguments: { text: "yes" } }],
  ["an output refinement that throws", { name: "output_throws" }],
  ["a ToolError", { name: "refuses" }],
  ["an internal error", { name: "crashes" }],
  ["the context (user, request id, session, defaults, signal)", { name: "whoami", arguments: {} }],
  ["an unknown tool", { name: "nope", arguments: {} }],
  ["a name that is not a string", { name: 42 }],
  [
    "a progress token (the SDK's lane)",
    { name: "echo", arguments: { text: "p" }, _meta: { progressToken: 9 } },
  ],
  [
    "request _meta of the client's own",
    { name: "echo", arguments: { text: "m" }, _meta: { "example.com/k": 1 } },
  ],
];

describe.each([LEGACY, MODERN])("direct and SDK lanes answer alike (%s)", (era) => {
  it.each(CASES)("%s", async (_label, params) => {
    const lane = vi.spyOn(DirectToolCalls.prototype, "call");
    try {
      const [fast, reference] = await Promise.all([post(direct, era, params), post(sdk, era, params)]);
      expect(fast).toEqual(reference);
      expect(fast.status).toBe(200);
      // Not vacuous: the direct host answered a call of a known tool in its own lane (a progress
      // token, arguments that are no object, an unknown tool and a non-string name never reach it).
      const known = typeof params["name"] === "string" && params["name"] !== "nope";
      const meta = params["_meta"] as Record<string, unknown> | undefined;
      const eligible = known && !Array.isArray(params["arguments"]) && meta?.["progressToken"] === undefined;
      expect(lane).toHaveBeenCalledTimes(eligible ? 1 : 0);
    } finally {
      lane.mockRestore();
    }
  });
});

/** Serves a host of `tools` (no authentication, quiet) for the length of `use`. */
async function serving(
  tools: ToolDefinition[],
  use: (side: Side) => Promise<void>,
  options: Partial<McpHostOptions> = {},
): Promise<void> {
  const host = createMcpHost({
    server: { name: "d", version: "1" },
    tools,
    insecureNoAuth: true,
    config: { telemetry: { logLevel: "silent", auditLog: "off" } },
    ...options,
  });
  const running = await serve(host, { port: 0, handleSignals: false });
  try {
    await use({ host, running });
  } finally {
    await running.close();
  }
}

describe("direct lane specifics", () => {
  it("a tool without sdkContext that reads ctx.mcp gets ERR_SDK_CONTEXT in the log and a tool error", async () => {
    const logs = captureLogs();
    const peek = defineTool({
      name: "peek",
      description: "Reads ctx.mcp",
      handler: (_args, ctx) => String(ctx.mcp.mcpReq.id),
    });
    await serving(
      [peek],
      async (side) => {
        for (const era of [LEGACY, MODERN]) {
          const { body } = await post(side, era, { name: "peek" });
          expect(body).toMatchObject({ result: { isError: true } });
        }
        expect(logs.lines.join("")).toContain("ERR_SDK_CONTEXT");
        expect(logs.lines.join("")).toContain('Tool \\"peek\\" reads ctx.mcp: declare sdkContext: true');
      },
      { logger: createLogger({ level: "error", serviceName: "d", destination: logs.stream }) },
    );
  });

  it("a multi-round-trip tool is handed to the SDK before anything is sent, and stays there", async () => {
    let calls = 0;
    const confirm = defineTool({
      name: "confirm",
      description: "Asks first",
      handler: async (_args, ctx) => {
        calls++;
        if (ctx.state() === undefined)
          return inputRequired({ requestState: await ctx.sealState({ step: 1 }) });
        return "confirmed";
      },
    });
    await serving([confirm], async (side) => {
      const first = await post(side, MODERN, { name: "confirm" });
      const result = (first.body as { result: { resultType: string; requestState: string } }).result;
      expect(result.resultType).toBe("input_required");
      // Once in the direct lane (sealState handed it over), once in the SDK's.
      expect(calls).toBe(2);
      const second = await post(side, MODERN, { name: "confirm", requestState: result.requestState });
      expect(second.body).toMatchObject({ result: { content: [{ type: "text", text: "confirmed" }] } });
      // From then on the SDK serves the tool: one call per request.
      await post(side, MODERN, { name: "confirm" });
      expect(calls).toBe(4);
    });
  });

  it("a direct call past its deadline gets -32001 and its signal aborts; the server goes on serving", async () => {
    let aborted: unknown;
    const hang = defineTool({
      name: "hang",
      description: "Waits for its signal",
      handler: (_args, ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener("abort", () => {
            aborted = ctx.signal.reason;
            resolve("late");
          }),
        ),
    });
    const ok = defineTool({ name: "ok", description: "Answers", handler: () => "fine" });
    await serving(
      [hang, ok],
      async (side) => {
        for (const era of [LEGACY, MODERN]) {
          aborted = undefined;
          const { body } = await post(side, era, { name: "hang" });
          expect(body).toMatchObject({ id: "client-id-7", error: { code: -32001 } });
          expect(aborted).toBe("deadline");
          const after = await post(side, era, { name: "ok" });
          expect(after.body).toMatchObject({ result: { content: [{ type: "text", text: "fine" }] } });
        }
      },
      {
        config: { server: { requestDeadlineMs: 1_000 }, telemetry: { logLevel: "silent", auditLog: "off" } },
      },
    );
  });

  it("a client that leaves aborts the direct call's signal", async () => {
    let resolveAborted!: (reason: unknown) => void;
    const abortedWith = new Promise((resolve) => (resolveAborted = resolve));
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const wait = defineTool({
      name: "wait",
      description: "Waits for its signal",
      handler: (_args, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            resolveAborted(ctx.signal.reason);
            resolve("gone");
          });
          started();
        }),
    });
    await serving([wait], async ({ running }) => {
      const controller = new AbortController();
      const pending = fetch(running.url, {
        method: "POST",
        signal: controller.signal,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "wait" } }),
      }).catch(() => undefined);
      await handlerStarted;
      controller.abort();
      await pending;
      expect(await abortedWith).toBe("disconnect");
    });
  });
});
