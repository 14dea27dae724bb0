import { context, metrics, propagation, trace, type Attributes } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type MetricData,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";

/**
 * An OpenTelemetry SDK for tests, registered globally: spans go to an in-memory exporter as they
 * end; metrics (delta temporality) are collected into an in-memory exporter on demand. Install it
 * before creating hosts: Paved binds its instruments when a host is built (and on `serve`).
 */
export interface InMemoryTelemetry {
  readonly spans: InMemorySpanExporter;
  /** Every span ended so far. */
  finished(): ReadableSpan[];
  /** The span named `name` (exactly one). */
  span(name: string): ReadableSpan;
  /** Data recorded since the last call (or {@link reset}), by metric name. */
  collect(): Promise<Map<string, MetricData>>;
  /** Forgets spans and metric data recorded so far. */
  reset(): Promise<void>;
  uninstall(): Promise<void>;
}

export function installTelemetry(): InMemoryTelemetry {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  const finished = (): ReadableSpan[] => spans.getFinishedSpans();
  return {
    spans,
    finished,
    span(name) {
      const found = finished().filter((span) => span.name === name);
      if (found.length !== 1)
        throw new Error(
          `expected one span "${name}", got ${found.length}: ${finished()
            .map((s) => s.name)
            .join(", ")}`,
        );
      return found[0]!;
    },
    async collect() {
      await reader.forceFlush();
      const byName = new Map<string, MetricData>();
      for (const resource of exporter.getMetrics())
        for (const scope of resource.scopeMetrics)
          for (const metric of scope.metrics) {
            const before = byName.get(metric.descriptor.name);
            byName.set(
              metric.descriptor.name,
              before === undefined
                ? metric
                : ({ ...metric, dataPoints: [...before.dataPoints, ...metric.dataPoints] } as MetricData),
            );
          }
      exporter.reset();
      return byName;
    },
    async reset() {
      spans.reset();
      await reader.forceFlush();
      exporter.reset();
    },
    async uninstall() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The data points of `metric` whose attributes include `subset`. */
export function pointsOf(metric: MetricData | undefined, subset: Attributes = {}): DataPoint<unknown>[] {
  if (metric === undefined) return [];
  return (metric.dataPoints as DataPoint<unknown>[]).filter((point) =>
    Object.entries(subset).every(([key, value]) => point.attributes[key] === value),
  );
}

/** Sum of a counter's points matching `subset`. */
export function total(metric: MetricData | undefined, subset: Attributes = {}): number {
  return pointsOf(metric, subset).reduce((sum, point) => sum + (point.value as number), 0);
}

/** Number of measurements of a histogram's points matching `subset`. */
export function recorded(metric: MetricData | undefined, subset: Attributes = {}): number {
  return pointsOf(metric, subset).reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
}
