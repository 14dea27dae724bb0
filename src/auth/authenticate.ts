import type { InboundRequest, Reply } from "../http/exchange.js";
import { jsonReply } from "../http/responses.js";
import type { Logger } from "../telemetry/logger.js";
import { extractBearer } from "./bearer.js";
import { bearerChallenge } from "./challenge.js";
import { ANONYMOUS } from "./principal.js";
import { InvalidTokenError, type TokenValidator, type ValidatedToken } from "./token-validator.js";

export interface AuthenticateOptions {
  /** `undefined`: authentication is off (development only). */
  readonly validator: TokenValidator | undefined;
  /** Scopes a client should ask for, sent in the 401 challenge. */
  readonly challengeScopes: readonly string[];
  /** Where the Protected Resource Metadata document is, for the challenge. */
  readonly resourceMetadataUrl: string | undefined;
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

function oauthError(status: number, error: string, description: string, challenge: string): Reply {
  return jsonReply(status, { error, error_description: description }, { "www-authenticate": challenge });
}

/**
 * Pipeline stage 5: bearer extraction (header only) → validator → principal. Answers follow RFC
 * 6750 §3: no credentials → 401 with a bare challenge; malformed or repeated credentials → 400
 * `invalid_request`; a bad token → 401 `invalid_token`. Validator faults fail closed.
 */
export function createAuthenticate(options: AuthenticateOptions): (request: InboundRequest) => Promise<Authenticated | Reply> {
  const base = {
    ...(options.resourceMetadataUrl !== undefined && { resourceMetadata: options.resourceMetadataUrl }),
    scope: options.challengeScopes,
  };
  return async function authenticate(request) {
    const validator = options.validator;
    if (validator === undefined) return UNAUTHENTICATED;
    const bearer = extractBearer(request);
    switch (bearer.kind) {
      case "missing":
        return oauthError(401, "unauthorized", "Authentication required", bearerChallenge(base));
      case "invalid_request":
        return oauthError(400, "invalid_request", bearer.description, bearerChallenge({ ...base, error: "invalid_request", description: bearer.description }));
      case "invalid_token":
        return oauthError(401, "invalid_token", bearer.description, bearerChallenge({ ...base, error: "invalid_token", description: bearer.description }));
      case "token":
        break;
    }
    try {
      const validated = await validator.validate(bearer.token);
      return { kind: "authenticated", token: bearer.token, validated };
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) options.logger.warn({ err: error }, "token validator failed; request refused");
      const description = error instanceof InvalidTokenError ? error.message : "The access token could not be validated";
      return oauthError(401, "invalid_token", description, bearerChallenge({ ...base, error: "invalid_token", description }));
    }
  };
}
