import { createNoopMeter, metrics } from "@opentelemetry/api";
import { internalsOf } from "../host-internals.js";
import type { McpHost } from "../host-options.js";
import type { MetricsSource } from "../http/metrics-route.js";
import { SCOPE_NAME } from "./metrics.js";
import { tracingInstalled } from "./spans.js";

/**
 * The OpenTelemetry Node SDK for `paved dev` / `paved start`, wired from the standard `OTEL_*`
 * variables. The library depends on `@opentelemetry/api` only: the SDK and exporters are optional
 * peer dependencies, imported here, on demand, only when a variable (or `telemetry.prometheus`)
 * asks for them. OTLP goes over HTTP: `http/protobuf` (the default) or `http/json`.
 */

type Environment = Readonly<Record<string, string | undefined>>;

export type OtlpProtocol = "http/protobuf" | "http/json";

/** What the variables ask for; {@link planTelemetry} computes it without loading anything. */
export interface TelemetryPlan {
  readonly traces: readonly ("otlp" | "console")[];
  readonly metrics: readonly ("otlp" | "console" | "prometheus")[];
  /** `telemetry.prometheus`: `GET /metrics` on the MCP port. */
  readonly metricsRoute: boolean;
  readonly tracesProtocol: OtlpProtocol;
  readonly metricsProtocol: OtlpProtocol;
  /** Values that were ignored, one sentence each. */
  readonly warnings: readonly string[];
}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== "" && item !== "null");

function protocolOf(env: Environment, signal: "TRACES" | "METRICS", warnings: string[]): OtlpProtocol {
  const variable = env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]
    ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`
    : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const value = env[variable]?.trim() || "http/protobuf";
  if (value === "http/protobuf" || value === "http/json") return value;
  const warning = `${variable}=${value} is not supported (Paved exports OTLP over HTTP): using http/protobuf`;
  if (!warnings.includes(warning)) warnings.push(warning);
  return "http/protobuf";
}

function exportersOf<T extends string>(
  env: Environment,
  signal: "TRACES" | "METRICS",
  supported: readonly T[],
  warnings: string[],
): T[] {
  const variable = `OTEL_${signal}_EXPORTER`;
  const named = list(env[variable]);
  if (named.includes("none")) return [];
  if (named.length === 0) {
    // Unset: export only when an OTLP endpoint is configured (the SDK's own default would be localhost).
    const endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"] || env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`];
    return endpoint ? (["otlp"] as T[]) : [];
  }
  const chosen: T[] = [];
  for (const name of new Set(named)) {
    if ((supported as readonly string[]).includes(name)) chosen.push(name as T);
    else warnings.push(`${variable}=${name} is not supported (supported: ${supported.join(", ")}, none)`);
  }
  return chosen;
}

/**
 * Which exporters the variables ask for. Nothing at all without `OTEL_EXPORTER_OTLP_ENDPOINT` (or a
 * per-signal endpoint), `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`, or `telemetry.prometheus`;
 * `OTEL_SDK_DISABLED=true` turns everything off.
 */
export function planTelemetry(env: Environment, prometheusRoute: boolean): TelemetryPlan {
  const warnings: string[] = [];
  if (env["OTEL_SDK_DISABLED"]?.trim().toLowerCase() === "true") {
    return {
      traces: [],
      metrics: [],
      metricsRoute: false,
      tracesProtocol: "http/protobuf",
      metricsProtocol: "http/protobuf",
      warnings: prometheusRoute ? ["OTEL_SDK_DISABLED=true: GET /metrics answers 503"] : [],
    };
  }
  const traces = exportersOf(env, "TRACES", ["otlp", "console"] as const, warnings);
  const metricsExporters = exportersOf(env, "METRICS", ["otlp", "console", "prometheus"] as const, warnings);
  return {
    traces,
    metrics: metricsExporters,
    metricsRoute: prometheusRoute,
    tracesProtocol: traces.includes("otlp") ? protocolOf(env, "TRACES", warnings) : "http/protobuf",
    metricsProtocol: metricsExporters.includes("otlp")
      ? protocolOf(env, "METRICS", warnings)
      : "http/protobuf",
    warnings,
  };
}

const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function missingPackage(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** Starts the Node SDK as `plan` says; `shutdown` flushes and stops it. */
async function startSdk(
  plan: TelemetryPlan,
  env: Environment,
  service: { readonly name: string; readonly version: string },
): Promise<{ readonly shutdown: () => Promise<void>; readonly source: MetricsSource | undefined }> {
  const sdk = await import("@opentelemetry/sdk-node");
  const intervalMs = Number(env["OTEL_METRIC_EXPORT_INTERVAL"]) || 60_000;
  const timeoutMs = Math.min(Number(env["OTEL_METRIC_EXPORT_TIMEOUT"]) || 30_000, intervalMs);

  const spanProcessors: (
    InstanceType<typeof sdk.tracing.BatchSpanProcessor> | InstanceType<typeof sdk.tracing.SimpleSpanProcessor>
  )[] = [];
  for (const name of plan.traces) {
    if (name === "console") {
      spanProcessors.push(new sdk.tracing.SimpleSpanProcessor(new sdk.tracing.ConsoleSpanExporter()));
      continue;
    }
    const { OTLPTraceExporter } =
      plan.tracesProtocol === "http/json"
        ? await import("@opentelemetry/exporter-trace-otlp-http")
        : await import("@opentelemetry/exporter-trace-otlp-proto");
    spanProcessors.push(new sdk.tracing.BatchSpanProcessor(new OTLPTraceExporter()));
  }

  const readers: InstanceType<typeof sdk.metrics.MetricReader>[] = [];
  let source: MetricsSource | undefined;
  for (const name of plan.metrics) {
    if (name === "prometheus") {
      // The standard behaviour: the exporter's own server (OTEL_EXPORTER_PROMETHEUS_HOST / _PORT, default 9464).
      const { PrometheusExporter } = await import("@opentelemetry/exporter-prometheus");
      readers.push(new PrometheusExporter());
      continue;
    }
    const exporter =
      name === "console"
        ? new sdk.metrics.ConsoleMetricExporter()
        : plan.metricsProtocol === "http/json"
          ? new (await import("@opentelemetry/exporter-metrics-otlp-http")).OTLPMetricExporter()
          : new (await import("@opentelemetry/exporter-metrics-otlp-proto")).OTLPMetricExporter();
    readers.push(
      new sdk.metrics.PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: timeoutMs,
      }),
    );
  }
  if (plan.metricsRoute) {
    const { PrometheusExporter, PrometheusSerializer } = await import("@opentelemetry/exporter-prometheus");
    const reader = new PrometheusExporter({ preventServerStart: true });
    // No `target_info`: the route needs no credentials, and the resource (host name, process command
    // line) is not for anyone who can reach the port. OTLP exports still carry the resource.
    const serializer = new PrometheusSerializer(undefined, undefined, undefined, true);
    readers.push(reader);
    source = {
      contentType: PROMETHEUS_TYPE,
      async collect() {
        const { resourceMetrics } = await reader.collect();
        return serializer.serialize(resourceMetrics);
      },
    };
  }

  const node = new sdk.NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the host's own name and version.
    ...(env["OTEL_SERVICE_NAME"] ? {} : { serviceName: service.name }),
    resource: sdk.resources
      .defaultResource()
      .merge(sdk.resources.resourceFromAttributes({ "service.version": service.version })),
    spanProcessors,
    metricReaders: readers,
    logRecordProcessors: [],
  });
  node.start();
  return { shutdown: () => node.shutdown(), source };
}

/**
 * Starts the SDK for `host` when the `OTEL_*` variables or `telemetry.prometheus` ask for it, and
 * attaches the Prometheus exporter to `GET /metrics`. Resolves with the SDK's `shutdown` (flushes
 * pending spans and metrics), or `undefined` when nothing was started. Never throws: telemetry
 * that cannot start is reported through `out` and the server serves without it.
 */
export async function startOpenTelemetry(
  host: McpHost,
  out: { log(line: string): void },
  env: Environment = process.env,
): Promise<(() => Promise<void>) | undefined> {
  const { config } = internalsOf(host);
  const plan = planTelemetry(env, config.telemetry.prometheus);
  for (const warning of plan.warnings) out.log(`paved: warning: ${warning}`);
  if (plan.traces.length === 0 && plan.metrics.length === 0 && !plan.metricsRoute) return undefined;
  if (tracingInstalled() || metrics.getMeter(SCOPE_NAME) !== createNoopMeter()) {
    out.log(
      "paved: an OpenTelemetry SDK is already registered (node --import …): using it; OTEL_* exporters and GET /metrics are its business",
    );
    return undefined;
  }
  let started: Awaited<ReturnType<typeof startSdk>>;
  try {
    started = await startSdk(plan, env, {
      name: config.telemetry.serviceName ?? host.info.name,
      version: host.info.version,
    });
  } catch (error) {
    out.log(
      missingPackage(error)
        ? `paved: warning: OpenTelemetry was asked for but its packages are not installed (${(error as Error).message.split("\n")[0]}); install @opentelemetry/sdk-node and the exporters (see docs/observability.md). Serving without telemetry.`
        : `paved: warning: OpenTelemetry did not start (${String(error)}); serving without telemetry`,
    );
    return undefined;
  }
  if (started.source !== undefined) internalsOf(host).exposeMetrics(started.source);
  const what = [
    ...plan.traces.map((name) => `traces → ${name === "otlp" ? `OTLP ${plan.tracesProtocol}` : name}`),
    ...plan.metrics.map((name) => `metrics → ${name === "otlp" ? `OTLP ${plan.metricsProtocol}` : name}`),
    ...(plan.metricsRoute ? ["metrics → GET /metrics (Prometheus)"] : []),
  ];
  out.log(`paved: OpenTelemetry: ${what.join(", ")}`);
  return started.shutdown;
}
