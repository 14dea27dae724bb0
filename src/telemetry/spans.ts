import {
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import type { InboundRequest, Reply } from "../http/exchange.js";
import type { RequestScope } from "./request-scope.js";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_PAVED_REJECTION_REASON,
  ATTR_PAVED_REQUEST_ID,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  OTHER,
} from "./semconv.js";

// `ProxyTracerProvider` is deprecated for API 2.0 only; the `^1.9` range never resolves to it.
// eslint-disable-next-line @typescript-eslint/no-deprecated -- a read-only probe of the 1.x global
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether any tracer provider is registered, through this copy of `@opentelemetry/api` or another
 * compatible one. Two property reads per request and no allocation: without an SDK, Paved starts no
 * span at all rather than a non-recording one.
 */
export function tracingInstalled(): boolean {
  const provider = trace.getTracerProvider();
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- see NOOP_PROVIDER
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

/** W3C Trace Context (and whatever propagators are configured) from the request's headers. */
export const HEADER_GETTER: TextMapGetter<InboundRequest> = {
  keys: () => [],
  get: (request, key) => request.header(key.toLowerCase()),
};

/**
 * Trace context from a request's `params._meta` (SEP-414: the unprefixed `traceparent`,
 * `tracestate` and `baggage` keys, the SDK's `TRACEPARENT_META_KEY` …). Only string values count.
 */
export const META_GETTER: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (meta) => Object.keys(meta).filter((key) => typeof meta[key] === "string"),
  get: (meta, key) => {
    const value = meta[key];
    return typeof value === "string" ? value : undefined;
  },
};

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

/**
 * The HTTP server span of stage 1 (`{method} {route}`, kind `SERVER`, HTTP semantic conventions).
 * `routes` are the paths Paved serves (MCP endpoint, metadata, health, metrics): other paths get no
 * `http.route`, so scanners cannot inflate span names.
 */
export function createHttpSpans(tracer: Tracer, routes: ReadonlySet<string>) {
  return {
    start(scope: RequestScope, request: InboundRequest): void {
      if (!tracingInstalled()) return;
      const parent = propagation.extract(ROOT_CONTEXT, request, HEADER_GETTER);
      const known = METHODS.has(request.method);
      const method = known ? request.method : OTHER;
      const route = routes.has(request.path) ? request.path : undefined;
      const attributes: Attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_URL_PATH]: request.path,
        [ATTR_URL_SCHEME]: request.scheme,
        [ATTR_PAVED_REQUEST_ID]: scope.requestId,
      };
      if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
      if (request.remoteAddress !== "") attributes[ATTR_CLIENT_ADDRESS] = request.remoteAddress;
      const agent = request.header("user-agent");
      if (agent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = agent.slice(0, 512);
      const name = known ? (route === undefined ? method : `${method} ${route}`) : "HTTP";
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      scope.span = span;
      scope.traceContext = trace.setSpan(parent, span);
    },

    /** Status and outcome; a streamed answer's span ends with its stream. */
    end(scope: RequestScope, reply: Reply): void {
      const span = scope.span;
      if (span === undefined) return;
      if (span.isRecording()) {
        const status = reply.kind === "web" ? reply.response.status : reply.status;
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        if (reply.kind === "body" && reply.reason !== undefined && status >= 400)
          span.setAttribute(ATTR_PAVED_REJECTION_REASON, reply.reason);
        // HTTP conventions: for a server, only 5xx is an error of the span.
        if (status >= 500) {
          span.setAttribute(ATTR_ERROR_TYPE, String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      if (reply.kind === "stream") reply.stream.onClosed(() => span.end());
      else span.end();
    },

    /** The pipeline threw: the span records the exception and ends (the adapter answers 500). */
    fail(scope: RequestScope, error: unknown): void {
      const span = scope.span;
      if (span === undefined) return;
      if (span.isRecording()) {
        if (error instanceof Error) span.recordException(error);
        span.setAttribute(ATTR_ERROR_TYPE, error instanceof Error ? error.name : OTHER);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

export type HttpSpans = ReturnType<typeof createHttpSpans>;
