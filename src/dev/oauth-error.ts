import { randomUUID } from "node:crypto";

/** OAuth error codes the provider answers with (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_target"
  | "invalid_resource"
  | "access_denied"
  | "invalid_redirect_uri"
  | "invalid_client_metadata";

/**
 * An OAuth error shaped like Entra's: an `AADSTS<n>:` prefix in `error_description` and the number
 * in `error_codes`, so code that logs or matches Entra errors sees the same thing locally.
 * The AADSTS numbers follow Entra's where one exists for the case; they are "AADSTS-like", not a promise.
 */
export class DevOAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly aadsts: number;
  /** 400, or 401 for client authentication failures (RFC 6749 §5.2). */
  readonly status: number;

  constructor(error: OAuthErrorCode, aadsts: number, message: string, status = 400) {
    super(message);
    this.name = "DevOAuthError";
    this.error = error;
    this.aadsts = aadsts;
    this.status = status;
  }

  /** The JSON body, as Entra sends it. */
  body(): Record<string, unknown> {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "Z");
    return {
      error: this.error,
      error_description: printable(
        `AADSTS${this.aadsts}: ${this.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      ),
      error_codes: [this.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    };
  }
}

/**
 * RFC 6749 §5.2: `error_description` may hold only %x20-21 / %x23-5B / %x5D-7E; values echoed from
 * a request (a scope, a URI) could carry anything else.
 */
export function printable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "?");
}
