import type { InboundRequest, Reply } from "../http/exchange.js";
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
  readonly logger: Logger;
}

export interface Authenticated {
  readonly kind: "authenticated";
  readonly token: string;
  readonly validated: ValidatedToken;
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
): (request: InboundRequest) => Promise<Authenticated | Reply> {
  function challenge(
    request: InboundRequest,
    status: number,
    error: "unauthorized" | "invalid_request" | "invalid_token",
    description: string,
  ): Reply {
    const resourceMetadata = options.resourceMetadataUrl(request);
    const params: ChallengeParams = {
      ...(resourceMetadata !== undefined && { resourceMetadata }),
      scope: options.challengeScopes,
      ...(error !== "unauthorized" && { error, description }),
    };
    return oauthReply(status, error, description, { "www-authenticate": bearerChallenge(params) });
  }

  return async function authenticate(request) {
    const validator = options.validator;
    if (validator === undefined) return UNAUTHENTICATED;
    const bearer = extractBearer(request);
    switch (bearer.kind) {
      case "missing":
        return challenge(request, 401, "unauthorized", "Authentication required");
      case "invalid_request":
        return challenge(request, 400, "invalid_request", bearer.description);
      case "invalid_token":
        return challenge(request, 401, "invalid_token", bearer.description);
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
        return oauthReply(403, "access_denied", error.message);
      if (error instanceof InvalidTokenError) return challenge(request, 401, "invalid_token", error.message);
      if (error instanceof IdentityUnavailableError) {
        return oauthReply(503, "temporarily_unavailable", error.message, { "retry-after": "5" });
      }
      options.logger.warn({ err: error }, "token validator failed; request refused");
      return challenge(request, 401, "invalid_token", "The access token could not be validated");
    }
  };
}
