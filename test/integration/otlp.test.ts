import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, urlOf, type Spawned } from "../fixtures/cli.js";
import { MCP_HEADERS } from "../fixtures/hosts.js";

/**
 * `paved start` with the standard OTEL_* variables pointing at a small OTLP/HTTP receiver (JSON
 * encoding, so the test can read it), driven by the official client: the receiver must get the
 * session's spans and metrics, and `GET /metrics` must serve them in Prometheus format.
 */

const TOKEN = "e2e-telemetry-token";
const META_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number };
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: OtlpAttribute[];
}

const received: { traces: unknown[]; metrics: unknown[]; contentTypes: Set<string> } = {
  traces: [],
  metrics: [],
  contentTypes: new Set(),
};
let receiver: Server;
let cli: Spawned;
let url: URL;

function spans(): OtlpSpan[] {
  return (received.traces as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }[]).flatMap((body) =>
    body.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
  );
}

function resourceAttributes(): OtlpAttribute[] {
  return (received.traces as { resourceSpans: { resource: { attributes: OtlpAttribute[] } }[] }[]).flatMap(
    (body) => body.resourceSpans.flatMap((resource) => resource.resource.attributes),
  );
}

function metricNames(): Set<string> {
  return new Set(
    (
      received.metrics as { resourceMetrics: { scopeMetrics: { metrics: { name: string }[] }[] }[] }[]
    ).flatMap((body) =>
      body.resourceMetrics.flatMap((resource) =>
        resource.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => metric.name)),
      ),
    ),
  );
}

const attribute = (span: OtlpSpan, key: string): string | number | undefined => {
  const value = span.attributes.find((item) => item.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

async function eventually(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.contentTypes.add(req.headers["content-type"] ?? "");
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (req.url === "/v1/traces") received.traces.push(body);
      else if (req.url === "/v1/metrics") received.metrics.push(body);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  cli = runCli(["start", "test/fixtures/entries/telemetry.mjs"], {
    PORT: "0",
    HOST: "127.0.0.1",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_METRIC_EXPORT_INTERVAL: "300",
    OTEL_BSP_SCHEDULE_DELAY: "100",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=e2e",
    PAVED_TELEMETRY__PROMETHEUS: "true",
  });
  url = await urlOf(cli, 20_000);
});

afterAll(async () => {
  cli.child.kill("SIGKILL");
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe("paved start with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("says what it wired", () => {
    expect(cli.stdout()).toContain(
      "paved: OpenTelemetry: traces → OTLP http/json, metrics → OTLP http/json, metrics → GET /metrics (Prometheus)",
    );
  });

  it("exports the spans and metrics of a real client session, in both protocol eras", async () => {
    for (const era of ["legacy", "modern"] as const) {
      const client = new Client(
        { name: "e2e", version: "1" },
        era === "modern" ? { versionNegotiation: { mode: "auto" } } : {},
      );
      await client.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
        }),
      );
      const result = await client.callTool({ name: "echo", arguments: { text: `hello ${era}` } });
      expect(result.content).toEqual([{ type: "text", text: `hello ${era}` }]);
      await client.listTools();
      await client.close();
    }
    // A failed token, for the auth-failure metric.
    const refused = await fetch(url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: "Bearer wrong" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    expect(refused.status).toBe(401);

    await eventually(
      () => spans().filter((span) => span.name === "tools/call echo").length >= 2,
      "tool call spans",
    );
    const calls = spans().filter((span) => span.name === "tools/call echo");
    const versions = calls.map((span) => attribute(span, "mcp.protocol.version")).sort();
    expect(versions).toContain("2026-07-28");
    for (const call of calls) {
      expect(call.kind).toBe(2); // SPAN_KIND_SERVER
      expect(attribute(call, "gen_ai.operation.name")).toBe("execute_tool");
      expect(attribute(call, "gen_ai.tool.name")).toBe("echo");
      const http = spans().find((span) => span.spanId === call.parentSpanId);
      expect(http?.name).toBe("POST /mcp");
      expect(attribute(http!, "http.response.status_code")).toBe(200);
    }
    expect(resourceAttributes()).toEqual(
      expect.arrayContaining([
        { key: "service.name", value: { stringValue: "telemetry-e2e" } },
        { key: "service.version", value: { stringValue: "3.1.4" } },
        { key: "deployment.environment.name", value: { stringValue: "e2e" } },
      ]),
    );

    await eventually(
      () =>
        [
          "mcp.server.operation.duration",
          "paved.tool.calls",
          "paved.auth.failures",
          "paved.http.rejections",
        ].every((name) => metricNames().has(name)),
      "the session's metrics",
    );
    expect([...received.contentTypes]).toEqual(["application/json"]);
  });

  it("a 2026-07-28 request with traceparent in _meta is exported in the caller's trace", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        authorization: `Bearer ${TOKEN}`,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "echo",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 9,
        method: "tools/call",
        params: {
          name: "echo",
          arguments: { text: "traced" },
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
            traceparent: `00-${META_TRACE}-00f067aa0ba902b7-01`,
          },
        },
      }),
    });
    expect(response.status).toBe(200);
    await eventually(() => spans().some((span) => span.traceId === META_TRACE), "the _meta trace");
    const op = spans().find((span) => span.traceId === META_TRACE);
    expect(op).toMatchObject({ name: "tools/call echo", parentSpanId: "00f067aa0ba902b7" });
  });

  it("serves GET /metrics in Prometheus text format, without credentials", async () => {
    const response = await fetch(new URL("/metrics", url));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(text).toContain("# TYPE mcp_server_operation_duration histogram");
    expect(text).toContain("# UNIT mcp_server_operation_duration s");
    expect(text).not.toContain("target_info");
    expect(text).toMatch(/paved_tool_calls_total\{[^}]*gen_ai_tool_name="echo"[^}]*\} \d/);
    expect(text).not.toContain(TOKEN);
  });

  it("flushes on SIGTERM and exits cleanly", async () => {
    const before = received.traces.length;
    await fetch(url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "echo", arguments: { text: "last" } },
      }),
    });
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(received.traces.length).toBeGreaterThan(before);
    expect(JSON.stringify(received)).not.toContain(TOKEN);
  });
});
