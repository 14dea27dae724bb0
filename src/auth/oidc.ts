import type { OidcConfig } from "../config/schema.js";
import { createJwksCache, fetchJson, isFetchableUrl, type JwksCache } from "./jwks-cache.js";
import {
  ACCESS_TOKEN_TYPES,
  createReadiness,
  inspectJwt,
  listClaim,
  stringClaim,
  verifyJwt,
  withTokenCache,
  type JwtValidatorOptions,
  type VerifiedJwt,
} from "./jwt-validator.js";
import { deepFreeze } from "../freeze.js";
import type { Principal } from "./principal.js";
import { InvalidTokenError, type ManagedTokenValidator, type ValidatedToken } from "./token-validator.js";

/** An OIDC validator, plus the authorization server to advertise in Protected Resource Metadata. */
export interface OidcValidator extends ManagedTokenValidator {
  /** The configured issuer, verbatim. */
  readonly authorizationServer: string;
}

/** Options of {@link createOidcValidator}. */
export interface OidcValidatorOptions extends JwtValidatorOptions {
  /** Accepted `aud` values, compared exactly (JWT-09): `config.audiences`, or the MCP URL (RFC 8707 resource). Required, non-empty. */
  readonly audiences: readonly string[];
}

/** Where discovery looks: OpenID Connect Discovery first, then RFC 8414 §3.1 (well-known inserted before the path). */
function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, "");
  return [
    `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

function toPrincipal(claims: VerifiedJwt["claims"], issuer: string): Principal {
  const sub = stringClaim(claims, "sub");
  // RFC 9068 §2.2: `sub` is REQUIRED; it is also the only stable key an arbitrary issuer gives us.
  if (sub === undefined || sub === "")
    throw new InvalidTokenError("claims", "The access token has no subject");
  const scopes =
    claims["scope"] !== undefined ? listClaim(claims, "scope", "string") : listClaim(claims, "scp", "both");
  const roles = listClaim(claims, "roles", "both");
  const clientId = stringClaim(claims, "client_id") ?? stringClaim(claims, "azp");
  const name = stringClaim(claims, "name");
  const username = stringClaim(claims, "preferred_username");
  return Object.freeze({
    // Issuer-scoped: the same `sub` at two issuers is two people.
    id: `${sub}@${issuer}`,
    ...(clientId !== undefined && { clientId }),
    ...(name !== undefined && { name }),
    ...(username !== undefined && { username }),
    scopes: Object.freeze(scopes),
    roles: Object.freeze(roles),
    // RFC 9068 §2.2: without a resource owner, `sub` identifies the client itself.
    isAppOnly: clientId !== undefined && sub === clientId,
    claims: deepFreeze({ ...claims }),
  });
}

/**
 * Validates JWT access tokens (RFC 9068) from any OpenID Connect issuer. Keys come from `jwksUri`,
 * or from the issuer's discovery document, whose `issuer` must equal the configured one exactly
 * (RFC 8414 §3.3). With `requireAccessTokenType` the `typ` header must be `at+jwt` (JWT-05), which
 * keeps ID tokens out. The principal's `id` is `${sub}@${issuer}`.
 *
 * @example
 * const validator = createOidcValidator(config.oidc, { audiences: ["https://mcp.contoso.com/mcp"] });
 * await validator.start();
 */
export function createOidcValidator(config: OidcConfig, options: OidcValidatorOptions): OidcValidator {
  if (options.audiences.length === 0)
    throw new TypeError("createOidcValidator: at least one audience is required");
  const audiences = [...options.audiences];
  const fetchOptions = { ...options.keys, ...(options.fetch !== undefined && { fetch: options.fetch }) };
  const keyOptions = {
    ...fetchOptions,
    ...(options.logger !== undefined && { logger: options.logger }),
    ...(options.observer !== undefined && { observer: options.observer }),
  };
  const types = config.requireAccessTokenType ? ACCESS_TOKEN_TYPES : undefined;
  let keys: JwksCache | undefined =
    config.jwksUri !== undefined ? createJwksCache(config.jwksUri, keyOptions) : undefined;

  async function discoverJwksUri(): Promise<string> {
    const failures: string[] = [];
    for (const url of discoveryUrls(config.issuer)) {
      let metadata: Record<string, unknown>;
      try {
        metadata = await fetchJson(url, fetchOptions);
      } catch (error) {
        failures.push((error as Error).message);
        continue;
      }
      // A document for another issuer is a misconfiguration (or an attack), never a fallback case.
      if (metadata["issuer"] !== config.issuer)
        throw new Error(`${url}: the issuer in the metadata differs from the configured issuer`);
      const jwksUri = metadata["jwks_uri"];
      if (typeof jwksUri !== "string" || !isFetchableUrl(jwksUri))
        throw new Error(`${url}: no usable jwks_uri`);
      return jwksUri;
    }
    throw new Error(`no discovery document: ${failures.join("; ")}`);
  }

  const readiness = createReadiness({
    async load() {
      keys ??= createJwksCache(await discoverJwksUri(), keyOptions);
      await keys.load();
    },
    isReady: () => keys?.ready() ?? false,
    retryMs: options.keys?.cooldownMs ?? 30_000,
    onClose: () => keys?.close(),
    name: "oidc",
    ...(options.logger !== undefined && { logger: options.logger }),
  });

  async function validateUncached(token: string): Promise<ValidatedToken> {
    inspectJwt(token, { algorithms: config.algorithms, ...(types !== undefined && { types }) });
    await readiness.ensure();
    if (keys === undefined) throw new InvalidTokenError("key", "The issuer's keys are not loaded");
    const verified = await verifyJwt(token, {
      keys,
      algorithms: config.algorithms,
      issuer: config.issuer,
      audiences,
      clockSkewSeconds: config.clockSkewSeconds,
    });
    return { principal: toPrincipal(verified.claims, config.issuer), expiresAt: verified.claims.exp };
  }

  return {
    authorizationServer: config.issuer,
    start: () => readiness.start(),
    ready: () => readiness.ready(),
    close: () => readiness.close(),
    validate: withTokenCache(validateUncached, options.tokenCache, options.observer),
  };
}
