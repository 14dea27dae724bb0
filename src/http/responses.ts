import type { BodyReply, Headers } from "./exchange.js";

/**
 * The only place rejections turn into HTTP answers, so every one has the same small, documented
 * shape: a JSON-RPC error object with `id: null` (what the MCP transport spec suggests for
 * transport-level rejections) and a stable `data.reason`.
 */
export type RejectionReason =
  | "host_not_allowed"
  | "origin_not_allowed"
  | "method_not_allowed"
  | "unsupported_media_type"
  | "not_acceptable"
  | "body_too_large"
  | "body_aborted"
  | "parse_error"
  | "invalid_request"
  | "batch_not_supported"
  | "unsupported_protocol_version"
  | "header_mismatch"
  | "missing_header"
  | "session_required"
  | "session_not_found"
  | "session_limit"
  | "session_store_unavailable"
  | "forwarding_not_trusted"
  | "forwarding_failed"
  | "rate_limited"
  | "rate_limit_unavailable"
  | "not_found"
  | "not_ready"
  | "shutting_down"
  | "identity_unavailable"
  | "access_denied"
  | "internal_error";

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
/** The SDK's code for transport-level rejections (`-32000`, implementation-defined server error). */
export const JSONRPC_SERVER_ERROR = -32000;
export const JSONRPC_INTERNAL_ERROR = -32603;

const JSON_TYPE = "application/json";

export function jsonReply(status: number, body: unknown, headers?: Headers): BodyReply {
  return {
    kind: "body",
    status,
    headers: { "content-type": JSON_TYPE, ...headers },
    body: JSON.stringify(body),
  };
}

export function emptyReply(status: number, headers?: Headers): BodyReply {
  return { kind: "body", status, headers: { ...headers }, body: null };
}

/** A rejection on the MCP endpoint: HTTP `status` + JSON-RPC error with `id` (null unless known). */
export function rejection(
  status: number,
  reason: RejectionReason,
  message: string,
  options?: { code?: number; id?: string | number | null; headers?: Headers; data?: Record<string, unknown> },
): BodyReply {
  return {
    ...jsonReply(
      status,
      {
        jsonrpc: "2.0",
        id: options?.id ?? null,
        error: { code: options?.code ?? JSONRPC_SERVER_ERROR, message, data: { reason, ...options?.data } },
      },
      options?.headers,
    ),
    reason,
  };
}

/** An OAuth error answer (RFC 6750 §3): the OAuth error body, the challenge when there is one. */
export function oauthReply(status: number, error: string, description: string, headers?: Headers): BodyReply {
  return { ...jsonReply(status, { error, error_description: description }, headers), reason: error };
}

/** An RFC 9457 problem: `type`, `title`, `status` (filled in), `detail` and extension members. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** An `application/problem+json` answer (RFC 9457), e.g. the 429 of the rate limiter. */
export function problemReply(
  status: number,
  reason: RejectionReason,
  problem: Problem,
  headers?: Headers,
): BodyReply {
  const { type, title, ...rest } = problem;
  return {
    kind: "body",
    status,
    headers: { "content-type": "application/problem+json", ...headers },
    body: JSON.stringify({ type, title, status, ...rest }),
    reason,
  };
}
