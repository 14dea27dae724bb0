import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";

/**
 * Names from the OpenTelemetry semantic conventions Paved follows: MCP (`docs/gen-ai/mcp.md` of
 * open-telemetry/semantic-conventions-genai, status Development), HTTP server spans, and the stable
 * `error.type` / `network.*` / `client.*` attributes. Paved's own attributes and metrics live under
 * `paved.*`. Every metric attribute here is low-cardinality by construction: values come from closed
 * sets or from the host's own catalog, never from callers (no user ids, tokens, arguments or ids).
 */

// MCP operation spans and metrics.
export const ATTR_MCP_METHOD_NAME = "mcp.method.name";
export const ATTR_MCP_PROTOCOL_VERSION = "mcp.protocol.version";
export const ATTR_MCP_SESSION_ID = "mcp.session.id";
export const ATTR_MCP_RESOURCE_URI = "mcp.resource.uri";
export const ATTR_JSONRPC_REQUEST_ID = "jsonrpc.request.id";
export const ATTR_RPC_RESPONSE_STATUS_CODE = "rpc.response.status_code";
export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const ATTR_GEN_AI_TOOL_NAME = "gen_ai.tool.name";
export const ATTR_GEN_AI_PROMPT_NAME = "gen_ai.prompt.name";
/** Opt-in (`telemetry.captureContent`): may hold personal or secret data. */
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments";
/** Opt-in (`telemetry.captureContent`): may hold personal or secret data. */
export const ATTR_GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result";

// General and HTTP server attributes.
export const ATTR_ERROR_TYPE = "error.type";
export const ATTR_NETWORK_TRANSPORT = "network.transport";
export const ATTR_NETWORK_PROTOCOL_NAME = "network.protocol.name";
export const ATTR_CLIENT_ADDRESS = "client.address";
export const ATTR_HTTP_REQUEST_METHOD = "http.request.method";
export const ATTR_HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
export const ATTR_HTTP_ROUTE = "http.route";
export const ATTR_URL_PATH = "url.path";
export const ATTR_URL_SCHEME = "url.scheme";
export const ATTR_USER_AGENT_ORIGINAL = "user_agent.original";

// Paved's own.
/** The request id (`X-Request-Id`) on the HTTP span, to go from a trace to the log lines. */
export const ATTR_PAVED_REQUEST_ID = "paved.request.id";
/** A refused request's stable reason (`invalid_token`, `origin_not_allowed`, …). */
export const ATTR_PAVED_REJECTION_REASON = "paved.rejection.reason";
/** Why authentication failed: `missing_token`, `expired`, `audience`, … (see {@link AUTH_FAILURE_REASONS}). */
export const ATTR_PAVED_AUTH_REASON = "paved.auth.reason";
/** The rate-limit policy that refused a request: `pre_auth`, `user`, `tenant`. */
export const ATTR_PAVED_RATE_LIMIT_POLICY = "paved.rate_limit.policy";
/** How a tool call ended: `success`, `tool_error`, `error`, `timeout`, `cancelled`. */
export const ATTR_PAVED_TOOL_OUTCOME = "paved.tool.outcome";
/** `hit` or `miss`. */
export const ATTR_PAVED_CACHE_RESULT = "paved.cache.result";
/** `success` or `failure`. */
export const ATTR_PAVED_OUTCOME = "paved.outcome";

export const GEN_AI_EXECUTE_TOOL = "execute_tool";
/** `error.type` of a tool call whose result has `isError: true` (MCP conventions). */
export const ERROR_TYPE_TOOL = "tool_error";
/** The conventions' fallback for a value outside the known set. */
export const OTHER = "_OTHER";

// Metrics.
export const METRIC_MCP_SERVER_OPERATION_DURATION = "mcp.server.operation.duration";
export const METRIC_MCP_SERVER_SESSION_DURATION = "mcp.server.session.duration";
export const METRIC_PAVED_TOOL_CALLS = "paved.tool.calls";
export const METRIC_PAVED_AUTH_FAILURES = "paved.auth.failures";
export const METRIC_PAVED_RATE_LIMIT_REJECTIONS = "paved.rate_limit.rejections";
export const METRIC_PAVED_HTTP_REJECTIONS = "paved.http.rejections";
export const METRIC_PAVED_SESSIONS_ACTIVE = "paved.sessions.active";
export const METRIC_PAVED_TOKEN_CACHE_LOOKUPS = "paved.auth.token_cache.lookups";
export const METRIC_PAVED_JWKS_REFRESHES = "paved.auth.jwks.refreshes";

/** Protocol versions a metric may name: the SDK's and 2026-07-28; a client's invention is `_OTHER`. */
const PROTOCOL_VERSIONS: ReadonlySet<string> = new Set([...SUPPORTED_PROTOCOL_VERSIONS, "2026-07-28"]);

export function versionForMetrics(version: string): string {
  return PROTOCOL_VERSIONS.has(version) ? version : OTHER;
}

/** The conventions' advisory bucket boundaries (seconds) for the MCP duration histograms. */
export const DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
];

/** The methods a client may send a server (MCP 2025-06-18 … 2026-07-28), for `mcp.method.name` on metrics. */
const MCP_METHODS: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "server/discover",
  "tools/list",
  "tools/call",
  "prompts/list",
  "prompts/get",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/list",
  "tasks/result",
  "tasks/cancel",
  "subscriptions/listen",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/roots/list_changed",
  "notifications/elicitation/complete",
]);

/** A method as a metric attribute: the well-known ones by name, anything a client made up as `_OTHER`. */
export function methodForMetrics(method: string): string {
  return MCP_METHODS.has(method) ? method : OTHER;
}

/** `paved.auth.reason` values: the extractor's, the built-in validators', and the pipeline's own. */
export const AUTH_FAILURE_REASONS: ReadonlySet<string> = new Set([
  "missing_token",
  "invalid_request",
  "malformed",
  "algorithm",
  "signature",
  "expired",
  "not_yet_valid",
  "issuer",
  "audience",
  "key",
  "claims",
  "token_type",
  "tenant",
  "client",
  "identity_unavailable",
  "validator_error",
]);

/** A custom validator may name any reason: outside the known set it is `_OTHER` on metrics. */
export function authReasonForMetrics(reason: string): string {
  return AUTH_FAILURE_REASONS.has(reason) ? reason : OTHER;
}
