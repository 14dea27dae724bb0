import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import type { RequestState } from "../mcp/context.js";
import type { AuditLog } from "./audit.js";
import type { PavedMetrics, ToolOutcome } from "./metrics.js";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SESSION_ID,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_TRANSPORT,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  ERROR_TYPE_TOOL,
  GEN_AI_EXECUTE_TOOL,
  OTHER,
  methodForMetrics,
  versionForMetrics,
} from "./semconv.js";
import { META_GETTER } from "./spans.js";

/** What a JSON-RPC request or notification looks like to telemetry. */
export interface McpMessage {
  readonly method: string;
  readonly id?: string | number | undefined;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
}

/** Told how an operation ended; `MuxTransport` and the session transports report here. */
export interface OperationObserver {
  /** The JSON-RPC response as sent to the client. */
  finish(response: Readonly<Record<string, unknown>>): void;
  /** No response from the handler: the deadline passed, the client left, or the server is stopping. */
  abandon(why: "deadline" | "disconnect" | "shutdown"): void;
}

export interface OperationsOptions {
  readonly tracer: Tracer;
  readonly metrics: PavedMetrics;
  readonly audit: AuditLog | undefined;
  /** The catalog's names: only these become `gen_ai.*.name` on metrics and span names. */
  readonly tools: ReadonlySet<string>;
  readonly prompts: ReadonlySet<string>;
  /** `telemetry.captureContent`: tool arguments and results on spans. */
  readonly captureContent: boolean;
}

/** Longest captured argument or result text (characters); longer ones are cut. */
const MAX_CONTENT = 16 * 1024;
const MAX_ATTRIBUTE = 256;

const clip = (text: string, max: number): string => (text.length > max ? text.slice(0, max) : text);

function captured(value: unknown): string | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : clip(text, MAX_CONTENT);
  } catch {
    return undefined;
  }
}

const RESOURCE_METHODS = new Set(["resources/read", "resources/subscribe", "resources/unsubscribe"]);
const SERVER_SPAN = { kind: SpanKind.SERVER } as const;

/**
 * Starts an {@link Operation} per JSON-RPC message, or nothing when no one would see it: no tracer
 * provider, no meter provider, and (for anything but a tool call) no audit log.
 */
export class Operations {
  readonly options: OperationsOptions;

  constructor(options: OperationsOptions) {
    this.options = options;
  }

  /**
   * `protocolVersion`: a session's negotiated version; otherwise it is read from the request's
   * `MCP-Protocol-Version` header or an `initialize`'s parameters. `sessionId`: stateful mode.
   */
  start(
    state: RequestState,
    message: McpMessage,
    protocolVersion?: string,
    sessionId?: string,
  ): Operation | undefined {
    const isTool = message.method === "tools/call";
    if (
      state.traceContext === undefined &&
      !this.options.metrics.enabled &&
      !(isTool && this.options.audit !== undefined)
    )
      return undefined;
    return new Operation(this.options, state, message, protocolVersion, sessionId);
  }
}

/**
 * One MCP request or notification: its `SERVER` span (`{mcp.method.name} {target}`), the
 * `mcp.server.operation.duration` measurement, and for a tool call `paved.tool.calls` and the
 * `tool.invoked` audit event. The span is the tool's execution span too (the conventions make the
 * MCP server span of `tools/call` an `execute_tool` span), and the handler runs with it active.
 * Its parent is the trace context of `params._meta` when the client sent one (SEP-414), linked to
 * the HTTP span; otherwise the HTTP span.
 */
export class Operation implements OperationObserver {
  private readonly options: OperationsOptions;
  private readonly state: RequestState;
  private readonly method: string;
  private readonly started = performance.now();
  private readonly kind: "tool" | "prompt" | undefined;
  private readonly name: string | undefined;
  private readonly protocolVersion: string | undefined;
  private readonly span: Span | undefined;
  /** The context the handler runs in (the span active), when traced. */
  readonly context: Context | undefined;
  private ended = false;

  constructor(
    options: OperationsOptions,
    state: RequestState,
    message: McpMessage,
    protocolVersion: string | undefined,
    sessionId: string | undefined,
  ) {
    this.options = options;
    this.state = state;
    this.method = message.method;
    const params = message.params;
    const name = typeof params?.["name"] === "string" ? params["name"] : undefined;
    this.kind =
      message.method === "tools/call" ? "tool" : message.method === "prompts/get" ? "prompt" : undefined;
    this.name = this.kind === undefined ? undefined : name;
    this.protocolVersion =
      protocolVersion ??
      state.request?.header("mcp-protocol-version") ??
      (message.method === "initialize" && typeof params?.["protocolVersion"] === "string"
        ? params["protocolVersion"]
        : undefined);

    const ambient = state.traceContext;
    if (ambient === undefined) return;
    const meta = params?.["_meta"];
    const parent =
      typeof meta === "object" && meta !== null
        ? propagation.extract(ambient, meta as Record<string, unknown>, META_GETTER)
        : ambient;
    const httpSpan = trace.getSpanContext(ambient);
    const fromMeta = trace.getSpanContext(parent) !== httpSpan;
    const links: Link[] | undefined =
      fromMeta && httpSpan !== undefined ? [{ context: httpSpan }] : undefined;
    const known = this.knownName();
    const span = options.tracer.startSpan(
      known === undefined ? this.method : `${this.method} ${known}`,
      links === undefined ? SERVER_SPAN : { kind: SpanKind.SERVER, links },
      parent,
    );
    this.span = span;
    this.context = trace.setSpan(parent, span);
    if (!span.isRecording()) return;
    span.setAttributes(this.spanAttributes(message, sessionId));
    if (options.captureContent && this.kind === "tool") {
      const args = captured(params?.["arguments"] ?? {});
      if (args !== undefined) span.setAttribute(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, args);
    }
  }

  /** Runs `fn` (the SDK's delivery of this message) with the operation's span active. */
  run<A extends unknown[], R>(fn: (...args: A) => R, thisArg: unknown, ...args: A): R {
    if (this.context === undefined) return fn.apply(thisArg, args);
    return context.with(this.context, fn, thisArg, ...args);
  }

  finish(response?: Readonly<Record<string, unknown>>): void {
    const error = response?.["error"] as { code?: unknown; message?: unknown } | undefined;
    if (error !== undefined) {
      const code = typeof error.code === "number" ? String(error.code) : OTHER;
      this.end(code, code, typeof error.message === "string" ? error.message : undefined, "error");
      return;
    }
    const result = response?.["result"] as Record<string, unknown> | undefined;
    if (this.kind === "tool" && result?.["isError"] === true) {
      this.end(ERROR_TYPE_TOOL, undefined, undefined, "tool_error", result);
      return;
    }
    this.end(undefined, undefined, undefined, "success", result);
  }

  abandon(why: "deadline" | "disconnect" | "shutdown"): void {
    if (why === "deadline") this.end("-32001", "-32001", "Request timed out", "timeout");
    else if (why === "shutdown") this.end("-32000", "-32000", "The server is shutting down", "error");
    else this.end("cancelled", undefined, "The client went away", "cancelled");
  }

  private knownName(): string | undefined {
    if (this.name === undefined) return undefined;
    const names = this.kind === "tool" ? this.options.tools : this.options.prompts;
    return names.has(this.name) ? this.name : undefined;
  }

  private spanAttributes(message: McpMessage, sessionId: string | undefined): Attributes {
    const attributes: Attributes = {
      [ATTR_MCP_METHOD_NAME]: clip(this.method, MAX_ATTRIBUTE),
      [ATTR_NETWORK_TRANSPORT]: "tcp",
      [ATTR_NETWORK_PROTOCOL_NAME]: "http",
    };
    if (message.id !== undefined && message.id !== null)
      attributes[ATTR_JSONRPC_REQUEST_ID] = String(message.id);
    if (this.protocolVersion !== undefined)
      attributes[ATTR_MCP_PROTOCOL_VERSION] = clip(this.protocolVersion, 64);
    if (sessionId !== undefined) attributes[ATTR_MCP_SESSION_ID] = sessionId;
    if (this.kind === "tool") {
      attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_EXECUTE_TOOL;
      if (this.name !== undefined) attributes[ATTR_GEN_AI_TOOL_NAME] = clip(this.name, MAX_ATTRIBUTE);
    } else if (this.kind === "prompt" && this.name !== undefined) {
      attributes[ATTR_GEN_AI_PROMPT_NAME] = clip(this.name, MAX_ATTRIBUTE);
    }
    const uri = message.params?.["uri"];
    if (RESOURCE_METHODS.has(this.method) && typeof uri === "string")
      attributes[ATTR_MCP_RESOURCE_URI] = clip(uri, 2048);
    const address = this.state.remoteAddress;
    if (address !== undefined && address !== "") attributes[ATTR_CLIENT_ADDRESS] = address;
    return attributes;
  }

  private metricAttributes(errorType: string | undefined, code: string | undefined): Attributes {
    const attributes: Attributes = {
      [ATTR_MCP_METHOD_NAME]: methodForMetrics(this.method),
      [ATTR_NETWORK_TRANSPORT]: "tcp",
      [ATTR_NETWORK_PROTOCOL_NAME]: "http",
    };
    if (this.protocolVersion !== undefined)
      attributes[ATTR_MCP_PROTOCOL_VERSION] = versionForMetrics(this.protocolVersion);
    if (this.kind === "tool") {
      attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_EXECUTE_TOOL;
      attributes[ATTR_GEN_AI_TOOL_NAME] = this.knownName() ?? OTHER;
    } else if (this.kind === "prompt") {
      attributes[ATTR_GEN_AI_PROMPT_NAME] = this.knownName() ?? OTHER;
    }
    if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
    if (code !== undefined) attributes[ATTR_RPC_RESPONSE_STATUS_CODE] = code;
    return attributes;
  }

  private end(
    errorType: string | undefined,
    code: string | undefined,
    description: string | undefined,
    outcome: ToolOutcome,
    result?: Readonly<Record<string, unknown>>,
  ): void {
    if (this.ended) return;
    this.ended = true;
    const seconds = (performance.now() - this.started) / 1000;
    const span = this.span;
    if (span?.isRecording() === true) {
      if (errorType !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType);
        if (code !== undefined) span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, code);
        span.setStatus(
          description === undefined
            ? { code: SpanStatusCode.ERROR }
            : { code: SpanStatusCode.ERROR, message: description },
        );
      }
      if (this.options.captureContent && this.kind === "tool" && result !== undefined) {
        const text = captured(result["structuredContent"] ?? result["content"]);
        if (text !== undefined) span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, text);
      }
    }
    span?.end();
    const { metrics, audit } = this.options;
    if (metrics.enabled) metrics.operation(seconds, this.metricAttributes(errorType, code));
    if (this.kind !== "tool") return;
    const tool = this.name ?? "";
    metrics.toolCall(tool, outcome);
    audit?.record(this.state, {
      event: "tool.invoked",
      principalId: this.state.principal.id,
      tool: clip(tool, MAX_ATTRIBUTE),
      outcome,
      durationMs: Math.round(seconds * 1e6) / 1000,
    });
  }
}
