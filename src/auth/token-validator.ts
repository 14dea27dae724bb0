import type { Principal } from "./principal.js";

/** A token that passed validation. */
export interface ValidatedToken {
  readonly principal: Principal;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * The seam where a token becomes a {@link Principal}. Paved ships validators for Entra ID and OIDC
 * issuers; implement this for anything else. Reject with {@link InvalidTokenError}: any other
 * rejection is treated the same way (fail closed) and logged as a validator fault.
 */
export interface TokenValidator {
  validate(token: string): Promise<ValidatedToken>;
}

/** The token is expired, malformed, for another audience, or otherwise unacceptable (RFC 6750 `invalid_token`). */
export class InvalidTokenError extends Error {
  /** Short reason for logs and metrics, e.g. `expired`, `audience`; never token material. */
  readonly reason: string;

  constructor(reason: string, message = "The access token is invalid") {
    super(message);
    this.name = "InvalidTokenError";
    this.reason = reason;
  }
}

/**
 * The identity provider's metadata or keys are not available and nothing cached can decide: the
 * request gets 503 with `Retry-After`, never 401 (the token may well be valid).
 */
export class IdentityUnavailableError extends Error {
  constructor(message = "The identity provider's signing keys are not available yet") {
    super(message);
    this.name = "IdentityUnavailableError";
  }
}

/** A validator with a lifecycle: metadata and keys are fetched at start and refreshed in the background. */
export interface ManagedTokenValidator extends TokenValidator {
  /** Fetches discovery metadata and keys. Resolves when ready; rejects (and keeps retrying) when the provider is down. */
  start(): Promise<void>;
  /** Whether keys are loaded: `/readyz` reports it. */
  ready(): boolean;
  /** Stops background refreshes. */
  close(): void;
}
