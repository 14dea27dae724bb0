import { afterEach, describe, expect, it, vi } from "vitest";
import { internalsOf } from "../../../src/host-internals.js";
import { fromWebRequest } from "../../../src/http/web-request.js";
import type { McpHost } from "../../../src/index.js";
import { tracingInstalled } from "../../../src/telemetry/spans.js";
import { RequestScope } from "../../../src/telemetry/request-scope.js";
import { MCP_HEADERS, rpc, testHost } from "../../fixtures/hosts.js";

/** No OpenTelemetry SDK in this file: the API is a no-op and Paved builds nothing for it. */
let host: McpHost;
afterEach(async () => {
  await host.close();
});

describe("without an OpenTelemetry SDK", () => {
  it("starts no span, binds no-op instruments and makes operations only for the audit log's tool calls", async () => {
    let logs: { lines: string[] };
    ({ host, logs } = testHost());
    const telemetry = internalsOf(host).telemetry;
    expect(tracingInstalled()).toBe(false);
    expect(telemetry.metrics.enabled).toBe(false);

    const scope = telemetry.begin(
      fromWebRequest(new Request("http://localhost/mcp", { method: "POST" })),
      "r1",
    );
    expect(scope.span).toBeUndefined();
    expect(scope.traceContext).toBeUndefined();
    expect(telemetry.operations.start(scope, { method: "tools/list", id: 1 })).toBeUndefined();
    expect(
      telemetry.operations.start(scope, { method: "tools/call", id: 1, params: { name: "echo" } }),
    ).toBeDefined();

    const response = await host.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: MCP_HEADERS,
        body: rpc("tools/call", { name: "echo", arguments: { text: "hi" } }),
      }),
    );
    expect(response.status).toBe(200);
    const audit = logs.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line["stream"] === "audit");
    expect(audit).toEqual([
      expect.objectContaining({
        event: "tool.invoked",
        tool: "echo",
        outcome: "success",
        requestId: response.headers.get("x-request-id"),
      }),
    ]);
    expect(audit[0]).not.toHaveProperty("trace_id");
  });

  it("with telemetry.auditLog off, nothing at all is made per operation", () => {
    ({ host } = testHost({ telemetry: { auditLog: "off" } }));
    const telemetry = internalsOf(host).telemetry;
    expect(telemetry.audit).toBeUndefined();
    const scope = new RequestScope("r2", internalsOf(host).logger);
    expect(
      telemetry.operations.start(scope, { method: "tools/call", id: 1, params: { name: "echo" } }),
    ).toBeUndefined();
  });

  it("a request makes its child logger only when something is logged, and once", async () => {
    ({ host } = testHost());
    const root = internalsOf(host).logger;
    const child = vi.spyOn(root, "child");
    const response = await host.fetch(
      new Request("http://localhost/mcp", { method: "POST", headers: MCP_HEADERS, body: rpc("tools/list") }),
    );
    expect(response.status).toBe(200);
    expect(child).not.toHaveBeenCalled();
    const scope = new RequestScope("r3", root);
    expect(scope.log).toBe(scope.log);
    expect(child).toHaveBeenCalledTimes(1);
    expect(scope.log.bindings()).toMatchObject({ requestId: "r3" });
    expect(scope.log.bindings()).not.toHaveProperty("trace_id");
  });
});
