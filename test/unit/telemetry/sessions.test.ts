import { SpanKind } from "@opentelemetry/api";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { McpHost } from "../../../src/index.js";
import { MCP_HEADERS, rpc, testHost } from "../../fixtures/hosts.js";
import { namedTokens } from "../../fixtures/principals.js";
import { installTelemetry, recorded, total, type InMemoryTelemetry } from "./support.js";

let otel: InMemoryTelemetry;
let host: McpHost;

beforeAll(() => {
  otel = installTelemetry();
});
afterAll(async () => {
  await otel.uninstall();
});
beforeEach(async () => {
  await otel.reset();
  ({ host } = testHost(
    { server: { stateless: false } },
    { tokenValidator: namedTokens(), insecureNoAuth: undefined as never },
  ));
});
afterEach(async () => {
  await host.close();
});

function post(body: string, session?: string, method = "POST"): Promise<Response> {
  return host.fetch(
    new Request("http://localhost/mcp", {
      method,
      headers: {
        ...MCP_HEADERS,
        authorization: "Bearer user.alice",
        "mcp-protocol-version": "2025-11-25",
        ...(session !== undefined && { "mcp-session-id": session }),
      },
      ...(method === "POST" && { body }),
    }),
  );
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

describe("stateful sessions", () => {
  it("operation spans carry mcp.session.id; paved.sessions.active and mcp.server.session.duration follow the session", async () => {
    const opened = await post(INIT);
    await opened.text();
    const session = opened.headers.get("mcp-session-id")!;
    const initialize = otel.span("initialize");
    expect(initialize.kind).toBe(SpanKind.SERVER);
    expect(initialize.attributes).toMatchObject({
      "mcp.method.name": "initialize",
      "mcp.protocol.version": "2025-11-25",
    });

    const call = await post(rpc("tools/call", { name: "echo", arguments: { text: "hi" } }, 5), session);
    expect(call.status).toBe(200);
    await call.text();
    const op = otel.span("tools/call echo");
    expect(op.attributes).toMatchObject({
      "mcp.session.id": session,
      "mcp.protocol.version": "2025-11-25",
      "jsonrpc.request.id": "5",
      "gen_ai.tool.name": "echo",
    });
    expect(op.parentSpanContext?.spanId).toBe(
      otel
        .finished()
        .filter((span) => span.name === "POST /mcp")[1]
        ?.spanContext().spanId,
    );

    const before = await otel.collect();
    expect(total(before.get("paved.sessions.active"))).toBe(1);
    expect(recorded(before.get("mcp.server.operation.duration"), { "gen_ai.tool.name": "echo" })).toBe(1);

    expect((await post("", session, "DELETE")).status).toBe(200);
    const after = await otel.collect();
    expect(total(after.get("paved.sessions.active"))).toBe(-1);
    expect(recorded(after.get("mcp.server.session.duration"), { "mcp.protocol.version": "2025-11-25" })).toBe(
      1,
    );
    expect(after.get("mcp.server.session.duration")?.descriptor.unit).toBe("s");
  });
});
