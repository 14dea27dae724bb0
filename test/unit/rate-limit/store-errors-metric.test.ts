import { metrics } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  type DataPoint,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { afterAll, describe, expect, it } from "vitest";
import { createMcpHost } from "../../../src/index.js";
import type { RateLimitStore } from "../../../src/rate-limit/store.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import { captureLogs, MCP_HEADERS, rpc } from "../../fixtures/hosts.js";
import { namedTokens } from "../../fixtures/principals.js";

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);
afterAll(async () => {
  await provider.shutdown();
  metrics.disable();
});

describe("paved.rate_limit.store_errors", () => {
  it("counts every decision the store could not make, with the store and the failure policy", async () => {
    const store: RateLimitStore = {
      name: "redis",
      consume: () => Promise.reject(new Error("Redis is not connected")),
      ready: () => false,
      close: () => Promise.resolve(),
    };
    const logs = captureLogs();
    const host = createMcpHost({
      config: { server: { resourceHost: "https://mcp.contoso.com" } },
      server: { name: "m", version: "1" },
      tokenValidator: namedTokens(),
      rateLimitStore: store,
      logger: createLogger({ level: "silent", serviceName: "test", destination: logs.stream }),
    });
    for (let index = 0; index < 3; index++) {
      const response = await host.fetch(
        new Request("https://mcp.contoso.com/mcp", {
          method: "POST",
          headers: { ...MCP_HEADERS, authorization: "Bearer user.alice" },
          body: rpc("tools/list"),
        }),
      );
      expect(response.status).toBe(200);
    }
    await host.close();
    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === "paved.rate_limit.store_errors")
      .flatMap((metric) => metric.dataPoints as DataPoint<number>[]);
    expect(points).toHaveLength(1);
    expect(points[0]?.attributes).toStrictEqual({
      "paved.rate_limit.store": "redis",
      "paved.rate_limit.failure_policy": "fail-open",
    });
    // stage 4 and stage 7 each failed on three requests
    expect(points[0]?.value).toBe(6);
  });
});
