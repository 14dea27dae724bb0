import { ToolError } from "../errors.js";

/**
 * Stable codes of downstream failures (never reworded once shipped). Every one is a {@link ToolError}:
 * thrown out of a tool, the client gets its message as the tool result (`isError: true`). Messages
 * never carry a token, an assertion, a secret or a downstream response body.
 */
export type DownstreamErrorCode =
  /** The caller is an application (client credentials): on-behalf-of needs a user (OBO-04). */
  | "ERR_DOWNSTREAM_APP_ONLY"
  /** No inbound user token to exchange (authentication is off, or the request has no bearer). */
  | "ERR_DOWNSTREAM_NO_USER_TOKEN"
  /** `ctx.downstream.fetch` named an API that is not in `downstream.<name>`. */
  | "ERR_DOWNSTREAM_UNKNOWN_API"
  /** A path or URL that leaves the API's `baseUrl` (another origin, `..`, a redirect elsewhere). */
  | "ERR_DOWNSTREAM_URL_REFUSED"
  /** No usable client credential (`azureAd.clientCredentials`), or one failed to produce a credential. */
  | "ERR_DOWNSTREAM_CREDENTIAL"
  /** Entra wants the user to sign in again (MFA, conditional access): `interaction_required` with claims. */
  | "ERR_DOWNSTREAM_INTERACTION_REQUIRED"
  /** Entra refused the exchange (consent missing, bad scope, throttled, down). */
  | "ERR_DOWNSTREAM_TOKEN"
  /** The downstream API answered 401 or 403. */
  | "ERR_DOWNSTREAM_DENIED"
  /** The downstream API answered 429. */
  | "ERR_DOWNSTREAM_THROTTLED"
  /** The downstream API answered 5xx or could not be reached. */
  | "ERR_DOWNSTREAM_UNAVAILABLE"
  /** The call's `timeoutMs` passed. */
  | "ERR_DOWNSTREAM_TIMEOUT"
  /** The tool's `signal` aborted (the client cancelled, or the request deadline passed). */
  | "ERR_DOWNSTREAM_CANCELLED";

export class DownstreamError extends ToolError {
  readonly code: DownstreamErrorCode;
  /** Seconds the caller should wait before retrying, when the server or Entra said so. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: DownstreamErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * Entra asked for more (MFA, conditional access): `claims` is the challenge to send back to the
 * client, which must sign in again with it. When the caller's token says its client can handle
 * claims challenges (`xms_cc` holds `cp1`, ENTRA-12), the host answers HTTP 401 with
 * `WWW-Authenticate: Bearer error="insufficient_claims", claims="…"` instead of a tool result.
 */
export class ClaimsChallengeError extends DownstreamError {
  /** The claims challenge, base64 of the JSON Entra returned (as `WWW-Authenticate` carries it). */
  readonly claims: string;
  /** Whether the caller's client declared it handles claims challenges (`xms_cc` contains `cp1`). */
  readonly clientCapable: boolean;

  constructor(message: string, claims: string, clientCapable: boolean, options?: { cause?: unknown }) {
    super("ERR_DOWNSTREAM_INTERACTION_REQUIRED", message, options);
    this.claims = claims;
    this.clientCapable = clientCapable;
  }
}
