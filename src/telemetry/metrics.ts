import {
  createNoopMeter,
  metrics,
  ValueType,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type UpDownCounter,
} from "@opentelemetry/api";
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_TRANSPORT,
  ATTR_PAVED_AUTH_REASON,
  ATTR_PAVED_CACHE_RESULT,
  ATTR_PAVED_OUTCOME,
  ATTR_PAVED_RATE_LIMIT_POLICY,
  ATTR_PAVED_REJECTION_REASON,
  ATTR_PAVED_TOOL_OUTCOME,
  DURATION_BUCKETS,
  METRIC_MCP_SERVER_OPERATION_DURATION,
  METRIC_MCP_SERVER_SESSION_DURATION,
  METRIC_PAVED_AUTH_FAILURES,
  METRIC_PAVED_HTTP_REJECTIONS,
  METRIC_PAVED_JWKS_REFRESHES,
  METRIC_PAVED_RATE_LIMIT_REJECTIONS,
  METRIC_PAVED_SESSIONS_ACTIVE,
  METRIC_PAVED_TOKEN_CACHE_LOOKUPS,
  METRIC_PAVED_TOOL_CALLS,
  OTHER,
  authReasonForMetrics,
} from "./semconv.js";

/** The instrumentation scope of every span and metric Paved records. */
export const SCOPE_NAME = "paved-mcp";

/** How a tool call ended, for `paved.tool.calls` and the audit log. */
export type ToolOutcome = "success" | "tool_error" | "error" | "timeout" | "cancelled";

/** Told about validated-token cache lookups and key-set fetches (the built-in validators report here). */
export interface IdentityObserver {
  tokenCacheLookup(hit: boolean): void;
  keySetRefresh(ok: boolean): void;
}

/** Paved's metrics. Attribute objects come from closed sets and are built once, not per call. */
export interface PavedMetrics extends IdentityObserver {
  /** False while no `MeterProvider` is registered: callers skip building attributes then. */
  readonly enabled: boolean;
  /** Re-reads the global `MeterProvider`, for an SDK started after the host was built (`serve` calls it). */
  bind(): void;
  /** `mcp.server.operation.duration`, in seconds. */
  operation(seconds: number, attributes: Attributes): void;
  toolCall(tool: string, outcome: ToolOutcome): void;
  authFailure(reason: string): void;
  /** Every refused request: HTTP status and stable reason. */
  rejection(status: number, reason: string): void;
  rateLimited(policy: string): void;
  sessionOpened(protocolVersion: string): void;
  sessionClosed(protocolVersion: string, seconds: number): void;
}

interface Instruments {
  readonly operationDuration: Histogram;
  readonly sessionDuration: Histogram;
  readonly toolCalls: Counter;
  readonly authFailures: Counter;
  readonly rateLimitRejections: Counter;
  readonly httpRejections: Counter;
  readonly sessionsActive: UpDownCounter;
  readonly tokenCacheLookups: Counter;
  readonly jwksRefreshes: Counter;
}

function createInstruments(meter: Meter): Instruments {
  const count = (name: string, unit: string, description: string): Counter =>
    meter.createCounter(name, { unit, description, valueType: ValueType.INT });
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, {
      unit: "s",
      description,
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
  return {
    operationDuration: seconds(
      METRIC_MCP_SERVER_OPERATION_DURATION,
      "MCP request or notification duration as observed on the receiver from the time it was received until the result or ack is sent.",
    ),
    sessionDuration: seconds(
      METRIC_MCP_SERVER_SESSION_DURATION,
      "The duration of the MCP session as observed on the MCP server.",
    ),
    toolCalls: count(METRIC_PAVED_TOOL_CALLS, "{call}", "Tool calls dispatched, by tool and outcome."),
    authFailures: count(
      METRIC_PAVED_AUTH_FAILURES,
      "{request}",
      "Requests that failed authentication, by reason.",
    ),
    rateLimitRejections: count(
      METRIC_PAVED_RATE_LIMIT_REJECTIONS,
      "{request}",
      "Requests refused by a rate limit, by policy.",
    ),
    httpRejections: count(
      METRIC_PAVED_HTTP_REJECTIONS,
      "{request}",
      "Requests the pipeline refused, by HTTP status and reason.",
    ),
    sessionsActive: meter.createUpDownCounter(METRIC_PAVED_SESSIONS_ACTIVE, {
      unit: "{session}",
      description: "Open stateful (2025-era) sessions.",
      valueType: ValueType.INT,
    }),
    tokenCacheLookups: count(
      METRIC_PAVED_TOKEN_CACHE_LOOKUPS,
      "{lookup}",
      "Validated-token cache lookups: a hit skips signature verification.",
    ),
    jwksRefreshes: count(METRIC_PAVED_JWKS_REFRESHES, "{refresh}", "Key-set fetches, by outcome."),
  };
}

const HIT = Object.freeze({ [ATTR_PAVED_CACHE_RESULT]: "hit" });
const MISS = Object.freeze({ [ATTR_PAVED_CACHE_RESULT]: "miss" });
const SUCCESS = Object.freeze({ [ATTR_PAVED_OUTCOME]: "success" });
const FAILURE = Object.freeze({ [ATTR_PAVED_OUTCOME]: "failure" });
const HTTP = { [ATTR_NETWORK_TRANSPORT]: "tcp", [ATTR_NETWORK_PROTOCOL_NAME]: "http" } as const;

/** Builds an attribute object once per key and hands out the same frozen object afterwards. */
function memo<K>(build: (key: K) => Attributes): (key: K) => Attributes {
  const cache = new Map<K, Attributes>();
  return (key) => {
    let attributes = cache.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze(build(key));
      cache.set(key, attributes);
    }
    return attributes;
  };
}

/**
 * Paved's instruments on the global `MeterProvider` (`@opentelemetry/api` only). With none
 * registered the API hands out no-op instruments and {@link PavedMetrics.enabled} is false.
 * `knownTools` bounds `gen_ai.tool.name`: a name outside the catalog is recorded as `_OTHER`.
 */
export function createMetrics(knownTools: ReadonlySet<string>): PavedMetrics {
  let instruments: Instruments;
  let enabled = false;
  const bind = (): void => {
    const meter = metrics.getMeter(SCOPE_NAME);
    enabled = meter !== createNoopMeter();
    instruments = createInstruments(meter);
  };
  bind();

  const toolAttributes = memo((key: string) => {
    const [tool, outcome] = key.split("\n") as [string, string];
    return { [ATTR_GEN_AI_TOOL_NAME]: tool, [ATTR_PAVED_TOOL_OUTCOME]: outcome };
  });
  // Keyed by the bounded value: a custom validator's reasons must not grow the cache either.
  const reasonAttributes = memo((reason: string) => ({ [ATTR_PAVED_AUTH_REASON]: reason }));
  const rejectionAttributes = memo((key: string) => {
    const [status, reason] = key.split(" ") as [string, string];
    return { [ATTR_HTTP_RESPONSE_STATUS_CODE]: Number(status), [ATTR_PAVED_REJECTION_REASON]: reason };
  });
  const policyAttributes = memo((policy: string) => ({ [ATTR_PAVED_RATE_LIMIT_POLICY]: policy }));
  const sessionAttributes = memo((version: string) => ({ ...HTTP, [ATTR_MCP_PROTOCOL_VERSION]: version }));

  return {
    get enabled() {
      return enabled;
    },
    bind,
    operation(seconds, attributes) {
      instruments.operationDuration.record(seconds, attributes);
    },
    toolCall(tool, outcome) {
      if (!enabled) return;
      instruments.toolCalls.add(1, toolAttributes(`${knownTools.has(tool) ? tool : OTHER}\n${outcome}`));
    },
    authFailure(reason) {
      if (enabled) instruments.authFailures.add(1, reasonAttributes(authReasonForMetrics(reason)));
    },
    rejection(status, reason) {
      if (enabled) instruments.httpRejections.add(1, rejectionAttributes(`${status} ${reason}`));
    },
    rateLimited(policy) {
      if (enabled) instruments.rateLimitRejections.add(1, policyAttributes(policy));
    },
    sessionOpened(version) {
      if (enabled) instruments.sessionsActive.add(1, sessionAttributes(version));
    },
    sessionClosed(version, seconds) {
      if (!enabled) return;
      instruments.sessionsActive.add(-1, sessionAttributes(version));
      instruments.sessionDuration.record(seconds, sessionAttributes(version));
    },
    tokenCacheLookup(hit) {
      if (enabled) instruments.tokenCacheLookups.add(1, hit ? HIT : MISS);
    },
    keySetRefresh(ok) {
      if (enabled) instruments.jwksRefreshes.add(1, ok ? SUCCESS : FAILURE);
    },
  };
}
