import { isSpanContextValid, type Context, type Span } from "@opentelemetry/api";
import { ANONYMOUS, type Principal } from "../auth/principal.js";
import type { Headers, InboundRequest } from "../http/exchange.js";
import type { AuditContext } from "./audit.js";
import type { Logger } from "./logger.js";

/**
 * Everything one request carries through the pipeline (stage 1 makes it): its id, the caller once
 * authenticated, its HTTP span when traced, and a logger made on first use, so a request that logs
 * nothing costs no child logger. One allocation per request; it rides to handlers on `AuthInfo.extra`.
 */
export class RequestScope implements AuditContext {
  readonly requestId: string;
  readonly request: InboundRequest | undefined;
  /** {@link ANONYMOUS} until stage 5 succeeds. */
  principal: Principal = ANONYMOUS;
  /** Set once authenticated (stage 5), for `onRejected` and audit. */
  principalId: string | undefined;
  /** The HTTP server span, when a tracer provider is registered. */
  span: Span | undefined;
  /** The context holding {@link span}: MCP operation spans start under it. */
  traceContext: Context | undefined;
  /** RateLimit fields of stages 4 and 7, put on whatever answer the request gets. */
  limitHeaders: Headers | undefined;
  private readonly root: Logger;
  private child: Logger | undefined;

  constructor(requestId: string, root: Logger, request?: InboundRequest) {
    this.requestId = requestId;
    this.root = root;
    this.request = request;
  }

  /** A logger whose lines carry `requestId`, and `trace_id` / `span_id` when the request is traced. */
  get log(): Logger {
    if (this.child === undefined) {
      const spanContext = this.span?.spanContext();
      this.child =
        spanContext !== undefined && isSpanContextValid(spanContext)
          ? this.root.child({
              requestId: this.requestId,
              trace_id: spanContext.traceId,
              span_id: spanContext.spanId,
            })
          : this.root.child({ requestId: this.requestId });
    }
    return this.child;
  }

  get remoteAddress(): string | undefined {
    return this.request?.remoteAddress;
  }

  get traceId(): string | undefined {
    const spanContext = this.span?.spanContext();
    return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
  }
}
