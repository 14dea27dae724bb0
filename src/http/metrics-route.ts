import type { InboundRequest, Reply } from "./exchange.js";
import { rejection } from "./responses.js";

/** Where `GET /metrics` gets its text: the CLI attaches `@opentelemetry/exporter-prometheus` here. */
export interface MetricsSource {
  /** The exposition format's media type, e.g. `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /** Collects every instrument now and renders them. */
  collect(): Promise<string>;
}

export const METRICS_PATH = "/metrics";

/**
 * Pipeline stage 3 with `telemetry.prometheus: true`: `GET /metrics` in Prometheus text format, no
 * credentials (like `/healthz`, for scrapers on the pod network; keep it off the public ingress).
 * 503 until a source is attached (`paved dev` / `paved start` attach one).
 */
export function createMetricsRoute(
  source: () => MetricsSource | undefined,
): (request: InboundRequest) => Promise<Reply | undefined> {
  return async function metricsRoute(request) {
    if (request.path !== METRICS_PATH) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return rejection(405, "method_not_allowed", "Method Not Allowed: use GET", {
        headers: { allow: "GET, HEAD" },
      });
    }
    const metrics = source();
    if (metrics === undefined) {
      return rejection(
        503,
        "not_ready",
        "Service Unavailable: no metrics exporter is attached (paved dev and paved start attach one when @opentelemetry/sdk-node and @opentelemetry/exporter-prometheus are installed)",
      );
    }
    let body: string;
    try {
      body = await metrics.collect();
    } catch {
      return rejection(500, "internal_error", "Internal Server Error: collecting metrics failed");
    }
    return { kind: "body", status: 200, headers: { "content-type": metrics.contentType }, body };
  };
}
