import { describe, expect, it } from "vitest";
import { planTelemetry } from "../../../src/telemetry/otel-sdk.js";

describe("planTelemetry (what paved dev / paved start wire from OTEL_*)", () => {
  it("wires nothing unless a variable or telemetry.prometheus asks", () => {
    expect(planTelemetry({}, false)).toMatchObject({
      traces: [],
      metrics: [],
      metricsRoute: false,
      warnings: [],
    });
    expect(planTelemetry({ OTEL_SERVICE_NAME: "weather" }, false)).toMatchObject({ traces: [], metrics: [] });
  });

  it("an OTLP endpoint turns on OTLP traces and metrics over http/protobuf by default", () => {
    expect(planTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, false)).toStrictEqual({
      traces: ["otlp"],
      metrics: ["otlp"],
      metricsRoute: false,
      tracesProtocol: "http/protobuf",
      metricsProtocol: "http/protobuf",
      warnings: [],
    });
  });

  it("per-signal endpoints, exporters and protocols are honoured", () => {
    expect(
      planTelemetry(
        {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://tempo:4318/v1/traces",
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
          OTEL_METRICS_EXPORTER: "prometheus, console",
        },
        true,
      ),
    ).toStrictEqual({
      traces: ["otlp"],
      metrics: ["prometheus", "console"],
      metricsRoute: true,
      tracesProtocol: "http/json",
      metricsProtocol: "http/protobuf",
      warnings: [],
    });
    expect(
      planTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" }, false),
    ).toMatchObject({ traces: [], metrics: ["otlp"] });
  });

  it("unsupported values are reported, never silently used", () => {
    const plan = planTelemetry(
      { OTEL_TRACES_EXPORTER: "zipkin,otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      false,
    );
    expect(plan.traces).toEqual(["otlp"]);
    expect(plan.tracesProtocol).toBe("http/protobuf");
    expect(plan.warnings).toEqual([
      "OTEL_TRACES_EXPORTER=zipkin is not supported (supported: otlp, console, none)",
      "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported (Paved exports OTLP over HTTP): using http/protobuf",
    ]);
  });

  it("OTEL_SDK_DISABLED=true turns everything off", () => {
    expect(
      planTelemetry({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, true),
    ).toMatchObject({
      traces: [],
      metrics: [],
      metricsRoute: false,
      warnings: ["OTEL_SDK_DISABLED=true: GET /metrics answers 503"],
    });
  });
});
