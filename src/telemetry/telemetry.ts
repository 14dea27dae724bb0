import { trace } from "@opentelemetry/api";
import type { InboundRequest, Reply } from "../http/exchange.js";
import type { AuditLog } from "./audit.js";
import type { Logger } from "./logger.js";
import { createMetrics, SCOPE_NAME, type PavedMetrics } from "./metrics.js";
import { Operations } from "./operation.js";
import { RequestScope } from "./request-scope.js";
import { ATTR_PAVED_AUTH_REASON } from "./semconv.js";
import { createHttpSpans } from "./spans.js";

export interface TelemetryOptions {
  readonly logger: Logger;
  /** `undefined`: `telemetry.auditLog` is `off`. */
  readonly audit: AuditLog | undefined;
  /** The catalog's tool and prompt names: the only ones metrics name. */
  readonly tools: ReadonlySet<string>;
  readonly prompts: ReadonlySet<string>;
  /** The paths Paved serves, for `http.route`. */
  readonly routes: ReadonlySet<string>;
  readonly captureContent: boolean;
}

/** The host's telemetry: stage 1 and the rejection accounting of the pipeline, operations for dispatch. */
export interface Telemetry {
  readonly metrics: PavedMetrics;
  readonly operations: Operations;
  readonly audit: AuditLog | undefined;
  /** Stage 1: the request's scope and, when a tracer provider is registered, its HTTP span. */
  begin(request: InboundRequest, requestId: string): RequestScope;
  /** The answer is known: the span's outcome and, for a rejection, its counters, audit event and log line. */
  end(scope: RequestScope, reply: Reply): void;
  /** The pipeline threw. */
  fail(scope: RequestScope, error: unknown): void;
}

/**
 * Built once per host from `@opentelemetry/api` only. Without a registered SDK nothing here
 * allocates per request beyond the request's {@link RequestScope}.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const tracer = trace.getTracer(SCOPE_NAME);
  const metrics = createMetrics(options.tools);
  const http = createHttpSpans(tracer, options.routes);
  const audit = options.audit;
  const operations = new Operations({
    tracer,
    metrics,
    audit,
    tools: options.tools,
    prompts: options.prompts,
    captureContent: options.captureContent,
  });

  function rejected(scope: RequestScope, status: number, reason: string, reply: Reply): void {
    metrics.rejection(status, reason);
    const detail = reply.kind === "body" ? reply.detail : undefined;
    switch (detail?.kind) {
      case "authentication":
        metrics.authFailure(detail.reason);
        scope.span?.setAttribute(ATTR_PAVED_AUTH_REASON, detail.reason);
        audit?.record(scope, { event: "auth.failed", reason: detail.reason, status });
        return;
      case "access":
        audit?.record(scope, {
          event: "access.denied",
          principalId: scope.principalId ?? "",
          rule: detail.rule,
          target: detail.target,
          missingScopes: detail.missingScopes,
          missingRoles: detail.missingRoles,
          status,
        });
        return;
      case "rate_limit":
        metrics.rateLimited(detail.policy);
        audit?.record(scope, {
          event: "rate_limited",
          policy: detail.policy,
          principalId: scope.principalId,
          status: 429,
        });
        return;
      case undefined:
        // Edge, parse and session refusals: counted and traced; logged when debugging (scanners are noisy).
        if (options.logger.isLevelEnabled("debug")) scope.log.debug({ status, reason }, "request refused");
    }
  }

  return {
    metrics,
    operations,
    audit,
    begin(request, requestId) {
      const scope = new RequestScope(requestId, options.logger, request);
      http.start(scope, request);
      return scope;
    },
    end(scope, reply) {
      if (reply.kind === "body" && reply.reason !== undefined && reply.status >= 400)
        rejected(scope, reply.status, reply.reason, reply);
      http.end(scope, reply);
    },
    fail(scope, error) {
      http.fail(scope, error);
    },
  };
}
