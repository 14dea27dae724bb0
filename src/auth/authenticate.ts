import type { BodyReply, InboundRequest, Reply } from "../http/exchange.js";
import { oauthReply } from "../http/responses.js";
import type { Logger } from "../telemetry/logger.js";
import { extractBearer } from "./bearer.js";
import { bearerChallenge, type ChallengeParams } from "./challenge.js";
import { ANONYMOUS } from "./principal.js";
import {
  IdentityUnavailableError,
  InvalidTokenError,
  type TokenValidator,
  type ValidatedToken,
} from "./token-validator.js";

export interface AuthenticateOptions {
  /** `undefined`: authentication is off (development only). */
  readonly validator: TokenValidator | undefined;
  /** Scopes a client should ask for, fully qualified, sent in the 401 challenge. */
  readonly challengeScopes: readonly string[];
  /** Where the Protected Resource Metadata document is for this request, for the challenge. */
  readonly resourceMetadataUrl: (request: InboundRequest) => string | undefined;
}

/** Where the request's log lines go; `log` is only read when there is something to log. */
export interface LogScope {
  readonly log: Pick<Logger, "warn">;
}

export interface Authenticated {
  readonly kind: "authenticated";
  readonly token: string;
  readonly validated: ValidatedToken;
}

/** The reply, with the stable reason the audit log and `paved.auth.failures` record (never token material). */
function failed(reply: BodyReply, reason: string): BodyReply {
  return { ...reply, detail: { kind: "authentication", reason } };
}

/** A validator's fault as logged: should its message or stack quote the token, the token is cut out. */
function withoutToken(error: unknown, token: string): unknown {
  if (!(error instanceof Error)) return String(error).replaceAll(token, "[redacted]");
  const scrubbed = new Error(error.message.replaceAll(token, "[redacted]"));
  scrubbed.name = error.name;
  if (error.stack !== undefined) scrubbed.stack = error.stack.replaceAll(token, "[redacted]");
  return scrubbed;
}

const UNAUTHENTICATED: Authenticated = Object.freeze({
  kind: "authenticated",
  token: "",
  validated: Object.freeze({ principal: ANONYMOUS, expiresAt: Number.MAX_SAFE_INTEGER }),
});

/**
 * Pipeline stage 5: bearer extraction (header only) → validator → principal. Answers follow RFC
 * 6750 §3 and the MCP authorization spec: no credentials → 401 with a challenge that carries
 * `resource_metadata` and `scope` but no error code; malformed or repeated credentials → 400
 * `invalid_request`; a bad token → 401 `invalid_token`. Validator faults fail closed; an identity
 * provider whose keys are unavailable gives 503, since the token may be fine.
 */
export function createAuthenticate(
  options: AuthenticateOptions,
): (request: InboundRequest, scope: LogScope) => Promise<Authenticated | Reply> {
  function challenge(
    request: InboundRequest,
    status: number,
    error: "unauthorized" | "invalid_request" | "invalid_token",
    description: string,
    reason: string,
  ): Reply {
    const resourceMetadata = options.resourceMetadataUrl(request);
    const params: ChallengeParams = {
      ...(resourceMetadata !== undefined && { resourceMetadata }),
      scope: options.challengeScopes,
      ...(error !== "unauthorized" && { error, description }),
    };
    return failed(
      oauthReply(status, error, description, { "www-authenticate": bearerChallenge(params) }),
      reason,
    );
  }

  return async function authenticate(request, scope) {
    const validator = options.validator;
    if (validator === undefined) return UNAUTHENTICATED;
    const bearer = extractBearer(request);
    switch (bearer.kind) {
      case "missing":
        return challenge(request, 401, "unauthorized", "Authentication required", "missing_token");
      case "invalid_request":
        return challenge(request, 400, "invalid_request", bearer.description, "invalid_request");
      case "invalid_token":
        return challenge(request, 401, "invalid_token", bearer.description, "malformed");
      case "token":
        break;
    }
    try {
      const validated = await validator.validate(bearer.token);
      return { kind: "authenticated", token: bearer.token, validated };
    } catch (error) {
      // A valid token from a client application this server does not admit (ENTRA-11): 403, since
      // signing in again with the same client cannot help.
      if (error instanceof InvalidTokenError && error.reason === "client")
        return failed(oauthReply(403, "access_denied", error.message), "client");
      if (error instanceof InvalidTokenError)
        return challenge(request, 401, "invalid_token", error.message, error.reason);
      if (error instanceof IdentityUnavailableError) {
        return failed(
          oauthReply(503, "temporarily_unavailable", error.message, { "retry-after": "5" }),
          "identity_unavailable",
        );
      }
      scope.log.warn({ err: withoutToken(error, bearer.token) }, "token validator failed; request refused");
      return challenge(
        request,
        401,
        "invalid_token",
        "The access token could not be validated",
        "validator_error",
      );
    }
  };
}
