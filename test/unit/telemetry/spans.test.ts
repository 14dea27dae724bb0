import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, InvalidTokenError, type McpHost, type TokenValidator } from "../../../src/index.js";
import { echo, MCP_HEADERS, refuses, rpc, testHost } from "../../fixtures/hosts.js";
import { namedTokens } from "../../fixtures/principals.js";
import { installTelemetry, pointsOf, recorded, total, type InMemoryTelemetry } from "./support.js";

/** Opens a span of its own: it must be a child of the `tools/call traced` operation span. */
const traced = defineTool({
  name: "traced",
  description: "Does its work in a span of its own",
  input: { text: z.string() },
  handler: ({ text }) =>
    trace.getTracer("tool").startActiveSpan("inner work", (span) => {
      span.end();
      return text.toUpperCase();
    }),
});

const forecast = defineTool({
  name: "forecast",
  description: "Needs Weather.Read",
  scopes: ["Weather.Read"],
  handler: () => "sunny",
});

/** `user.*` tokens are valid (see namedTokens); `expired` is rejected as expired. */
function validator(): TokenValidator {
  const named = namedTokens();
  return {
    validate: (token) =>
      token === "expired.token.value"
        ? Promise.reject(new InvalidTokenError("expired", "The access token has expired"))
        : named.validate(token),
  };
}

const ARGUMENT_TEXT = "argument-content-7f3a";
const HEADER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const META_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const META_PARENT = "00f067aa0ba902b7";

let otel: InMemoryTelemetry;
let host: McpHost;
let logs: { lines: string[] };

beforeAll(() => {
  otel = installTelemetry();
});
afterAll(async () => {
  await otel.uninstall();
});
beforeEach(async () => {
  await otel.reset();
  ({ host, logs } = testHost(
    {},
    {
      tokenValidator: validator(),
      insecureNoAuth: undefined as never,
      tools: [echo, refuses, traced, forecast],
    },
  ));
});
afterEach(async () => {
  await host.close();
});

function post(
  body: string,
  headers: Record<string, string> = {},
  token: string | null = "user.alice.Weather-Read",
): Promise<Response> {
  return host.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...headers,
      },
      body,
    }),
  );
}

const auditLines = (): Record<string, unknown>[] =>
  logs.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line["stream"] === "audit");

describe("a tool call", () => {
  it("is an HTTP server span with the MCP operation span (execute_tool) inside it, and the tool's own spans inside that", async () => {
    const response = await post(rpc("tools/call", { name: "traced", arguments: { text: ARGUMENT_TEXT } }, 7));
    expect(response.status).toBe(200);

    const http = otel.span("POST /mcp");
    expect(http.kind).toBe(SpanKind.SERVER);
    expect(http.parentSpanContext).toBeUndefined();
    expect(http.attributes).toMatchObject({
      "http.request.method": "POST",
      "url.path": "/mcp",
      "url.scheme": "http",
      "http.route": "/mcp",
      "http.response.status_code": 200,
      "paved.request.id": response.headers.get("x-request-id"),
    });
    expect(http.status.code).toBe(SpanStatusCode.UNSET);

    const op = otel.span("tools/call traced");
    expect(op.kind).toBe(SpanKind.SERVER);
    expect(op.spanContext().traceId).toBe(http.spanContext().traceId);
    expect(op.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(op.links).toEqual([]);
    expect(op.attributes).toStrictEqual({
      "mcp.method.name": "tools/call",
      "jsonrpc.request.id": "7",
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "traced",
      "network.transport": "tcp",
      "network.protocol.name": "http",
    });
    expect(op.status.code).toBe(SpanStatusCode.UNSET);

    const inner = otel.span("inner work");
    expect(inner.parentSpanContext?.spanId).toBe(op.spanContext().spanId);
    // No content unless telemetry.captureContent is on.
    expect(JSON.stringify(otel.finished().map((span) => span.attributes))).not.toContain(ARGUMENT_TEXT);
  });

  it("records mcp.server.operation.duration (seconds, the conventions' buckets) and paved.tool.calls", async () => {
    expect((await post(rpc("tools/call", { name: "echo", arguments: { text: "hi" } }))).status).toBe(200);
    const metrics = await otel.collect();
    const duration = metrics.get("mcp.server.operation.duration");
    expect(duration?.descriptor.unit).toBe("s");
    const [point] = pointsOf(duration, { "gen_ai.tool.name": "echo" });
    expect(point?.attributes).toStrictEqual({
      "mcp.method.name": "tools/call",
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "echo",
      "network.transport": "tcp",
      "network.protocol.name": "http",
    });
    expect((point?.value as { count: number; buckets: { boundaries: number[] } }).buckets.boundaries).toEqual(
      [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    );
    expect(recorded(duration, { "gen_ai.tool.name": "echo" })).toBe(1);
    expect(
      total(metrics.get("paved.tool.calls"), { "gen_ai.tool.name": "echo", "paved.tool.outcome": "success" }),
    ).toBe(1);
    expect(auditLines()).toContainEqual(
      expect.objectContaining({
        event: "tool.invoked",
        principalId: "t1:alice",
        tool: "echo",
        outcome: "success",
        durationMs: expect.any(Number),
        requestId: expect.any(String),
        trace_id: otel.span("POST /mcp").spanContext().traceId,
      }),
    );
  });

  it("a tool error (isError) is error.type tool_error; a JSON-RPC error is its code", async () => {
    await post(rpc("tools/call", { name: "refuses", arguments: {} }));
    const refused = otel.span("tools/call refuses");
    expect(refused.attributes["error.type"]).toBe("tool_error");
    expect(refused.status.code).toBe(SpanStatusCode.ERROR);

    await post(rpc("tools/call", { name: "no-such-tool", arguments: {} }));
    // An unknown name never becomes part of a span name or a metric attribute.
    const unknown = otel.span("tools/call");
    expect(unknown.attributes["gen_ai.tool.name"]).toBe("no-such-tool");
    expect(unknown.attributes["error.type"]).toBe("-32602");
    expect(unknown.attributes["rpc.response.status_code"]).toBe("-32602");
    expect(unknown.status).toMatchObject({ code: SpanStatusCode.ERROR, message: expect.any(String) });

    const metrics = await otel.collect();
    const duration = metrics.get("mcp.server.operation.duration");
    expect(recorded(duration, { "gen_ai.tool.name": "refuses", "error.type": "tool_error" })).toBe(1);
    expect(recorded(duration, { "gen_ai.tool.name": "_OTHER", "error.type": "-32602" })).toBe(1);
    expect(pointsOf(duration).some((point) => point.attributes["gen_ai.tool.name"] === "no-such-tool")).toBe(
      false,
    );
    const calls = metrics.get("paved.tool.calls");
    expect(total(calls, { "gen_ai.tool.name": "refuses", "paved.tool.outcome": "tool_error" })).toBe(1);
    expect(total(calls, { "gen_ai.tool.name": "_OTHER", "paved.tool.outcome": "error" })).toBe(1);
  });

  it("a client-invented method or protocol version is _OTHER on metrics", async () => {
    await post(
      rpc("initialize", {
        protocolVersion: "9999-12-31",
        capabilities: {},
        clientInfo: { name: "odd", version: "1" },
      }),
    );
    await post(rpc("made/up", {}));
    expect(otel.span("initialize").attributes["mcp.protocol.version"]).toBe("9999-12-31");
    const duration = (await otel.collect()).get("mcp.server.operation.duration");
    expect(recorded(duration, { "mcp.method.name": "initialize", "mcp.protocol.version": "_OTHER" })).toBe(1);
    expect(recorded(duration, { "mcp.method.name": "_OTHER", "error.type": "-32601" })).toBe(1);
  });

  it("records argument and result content only with telemetry.captureContent", async () => {
    await host.close();
    ({ host, logs } = testHost(
      { telemetry: { captureContent: true } },
      { tokenValidator: validator(), insecureNoAuth: undefined as never, tools: [echo] },
    ));
    await post(rpc("tools/call", { name: "echo", arguments: { text: ARGUMENT_TEXT } }));
    const op = otel.span("tools/call echo");
    expect(op.attributes["gen_ai.tool.call.arguments"]).toBe(JSON.stringify({ text: ARGUMENT_TEXT }));
    expect(op.attributes["gen_ai.tool.call.result"]).toBe(
      JSON.stringify([{ type: "text", text: ARGUMENT_TEXT }]),
    );
  });
});

describe("a denied tool call (403)", () => {
  it("is an HTTP span with the rejection, no operation span, a counted rejection and an access.denied audit event", async () => {
    const response = await post(rpc("tools/call", { name: "forecast", arguments: {} }), {}, "user.bob");
    expect(response.status).toBe(403);
    const http = otel.span("POST /mcp");
    expect(http.attributes).toMatchObject({
      "http.response.status_code": 403,
      "paved.rejection.reason": "insufficient_scope",
    });
    // HTTP conventions: a 4xx is not an error of a server span.
    expect(http.status.code).toBe(SpanStatusCode.UNSET);
    expect(otel.finished().map((span) => span.name)).toEqual(["POST /mcp"]);

    const metrics = await otel.collect();
    expect(
      total(metrics.get("paved.http.rejections"), {
        "http.response.status_code": 403,
        "paved.rejection.reason": "insufficient_scope",
      }),
    ).toBe(1);
    expect(metrics.get("mcp.server.operation.duration")).toBeUndefined();
    expect(auditLines()).toEqual([
      expect.objectContaining({
        stream: "audit",
        event: "access.denied",
        principalId: "t1:bob",
        rule: "tool",
        target: "forecast",
        missingScopes: ["Weather.Read"],
        missingRoles: [],
        status: 403,
        trace_id: http.spanContext().traceId,
      }),
    ]);
  });
});

describe("a failed token (401)", () => {
  it("is an HTTP span with the reason, paved.auth.failures by reason and an auth.failed audit event without the token", async () => {
    const response = await post(rpc("tools/list"), {}, "expired.token.value");
    expect(response.status).toBe(401);
    const http = otel.span("POST /mcp");
    expect(http.attributes).toMatchObject({
      "http.response.status_code": 401,
      "paved.rejection.reason": "invalid_token",
      "paved.auth.reason": "expired",
    });
    const metrics = await otel.collect();
    expect(total(metrics.get("paved.auth.failures"), { "paved.auth.reason": "expired" })).toBe(1);
    expect(auditLines()).toEqual([
      expect.objectContaining({ event: "auth.failed", reason: "expired", status: 401 }),
    ]);
    expect(logs.lines.join("\n")).not.toContain("expired.token.value");
    expect(JSON.stringify(otel.finished().map((span) => span.attributes))).not.toContain(
      "expired.token.value",
    );

    // A custom validator's own reason is kept in the audit log but bounded on metrics.
    await post(rpc("tools/list"), {}, "garbage");
    expect(total((await otel.collect()).get("paved.auth.failures"), { "paved.auth.reason": "_OTHER" })).toBe(
      1,
    );
  });

  it("no token at all is missing_token", async () => {
    expect((await post(rpc("tools/list"), {}, null)).status).toBe(401);
    expect(
      total((await otel.collect()).get("paved.auth.failures"), { "paved.auth.reason": "missing_token" }),
    ).toBe(1);
  });
});

function modernCall(name: string, meta: Record<string, unknown>): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: "call-1",
    method: "tools/call",
    params: {
      name,
      arguments: { text: "hi" },
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
        ...meta,
      },
    },
  });
}

const MODERN_HEADERS = {
  "mcp-protocol-version": "2026-07-28",
  "mcp-method": "tools/call",
  "mcp-name": "traced",
};

describe("trace context", () => {
  it("a 2026-07-28 request carrying traceparent in _meta: the operation span joins that trace, linked to the HTTP span", async () => {
    const response = await post(
      modernCall("traced", {
        traceparent: `00-${META_TRACE}-${META_PARENT}-01`,
        tracestate: "vendor=opaque",
      }),
      MODERN_HEADERS,
    );
    expect(response.status).toBe(200);
    const http = otel.span("POST /mcp");
    const op = otel.span("tools/call traced");
    expect(op.spanContext().traceId).toBe(META_TRACE);
    expect(op.parentSpanContext).toMatchObject({ traceId: META_TRACE, spanId: META_PARENT, isRemote: true });
    expect(op.spanContext().traceState?.get("vendor")).toBe("opaque");
    expect(op.links.map((link) => link.context.spanId)).toEqual([http.spanContext().spanId]);
    expect(op.attributes).toMatchObject({
      "mcp.protocol.version": "2026-07-28",
      "jsonrpc.request.id": "call-1",
      "gen_ai.tool.name": "traced",
    });
    // The handler runs in the operation's trace.
    expect(otel.span("inner work").spanContext().traceId).toBe(META_TRACE);
  });

  it("W3C headers make the HTTP span (and so the operation span) join the caller's trace; _meta wins for the operation", async () => {
    await post(modernCall("traced", {}), {
      ...MODERN_HEADERS,
      traceparent: `00-${HEADER_TRACE}-b7ad6b7169203331-01`,
    });
    expect(otel.span("POST /mcp").spanContext().traceId).toBe(HEADER_TRACE);
    expect(otel.span("POST /mcp").parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(otel.span("tools/call traced").spanContext().traceId).toBe(HEADER_TRACE);
    await otel.reset();

    await post(modernCall("traced", { traceparent: `00-${META_TRACE}-${META_PARENT}-01` }), {
      ...MODERN_HEADERS,
      traceparent: `00-${HEADER_TRACE}-b7ad6b7169203331-01`,
    });
    expect(otel.span("POST /mcp").spanContext().traceId).toBe(HEADER_TRACE);
    expect(otel.span("tools/call traced").spanContext().traceId).toBe(META_TRACE);
  });

  it("a malformed traceparent in _meta is ignored (the HTTP span stays the parent)", async () => {
    await post(modernCall("traced", { traceparent: "00-zzzz-not-valid-01", tracestate: 7 }), MODERN_HEADERS);
    const op = otel.span("tools/call traced");
    expect(op.parentSpanContext?.spanId).toBe(otel.span("POST /mcp").spanContext().spanId);
  });

  it("2025-era requests carry traceparent in _meta too", async () => {
    await post(
      rpc("tools/call", {
        name: "echo",
        arguments: { text: "x" },
        _meta: { traceparent: `00-${META_TRACE}-${META_PARENT}-01` },
      }),
      { "mcp-protocol-version": "2025-11-25" },
    );
    const op = otel.span("tools/call echo");
    expect(op.spanContext().traceId).toBe(META_TRACE);
    expect(op.attributes["mcp.protocol.version"]).toBe("2025-11-25");
  });
});

describe("public routes", () => {
  it("are spans with their route; unknown paths get no route (scanners cannot inflate span names)", async () => {
    await host.fetch(new Request("http://localhost/healthz"));
    await host.fetch(new Request("http://localhost/wp-admin/setup.php"));
    expect(otel.span("GET /healthz").attributes["http.route"]).toBe("/healthz");
    const unknown = otel.span("GET");
    expect(unknown.attributes["http.route"]).toBeUndefined();
    expect(unknown.attributes["http.response.status_code"]).toBe(404);
  });
});

describe("a rate-limited request (429)", () => {
  it("is an HTTP span with the rejection, paved.rate_limit.rejections by policy and a rate_limited audit event", async () => {
    await host.close();
    ({ host, logs } = testHost(
      { server: { maxRequestsPerMinutePerUser: 1 } },
      { tokenValidator: validator(), insecureNoAuth: undefined as never, tools: [echo] },
    ));
    expect((await post(rpc("tools/list"))).status).toBe(200);
    await otel.reset();
    const response = await post(rpc("tools/list"));
    expect(response.status).toBe(429);
    const http = otel.span("POST /mcp");
    expect(http.attributes).toMatchObject({
      "http.response.status_code": 429,
      "paved.rejection.reason": "rate_limited",
    });
    expect(otel.finished().map((span) => span.name)).toEqual(["POST /mcp"]);
    const metrics = await otel.collect();
    expect(total(metrics.get("paved.rate_limit.rejections"), { "paved.rate_limit.policy": "user" })).toBe(1);
    expect(total(metrics.get("paved.http.rejections"), { "paved.rejection.reason": "rate_limited" })).toBe(1);
    expect(auditLines()).toContainEqual(
      expect.objectContaining({
        event: "rate_limited",
        policy: "user",
        principalId: "t1:alice",
        status: 429,
        trace_id: http.spanContext().traceId,
      }),
    );
  });
});
