import { GUID } from "./ids.js";
import { issuerOf, type TokenSigner } from "./tokens.js";

/** Tenant path segments Entra serves: a tenant GUID, or the multi-tenant aliases. */
const ALIASES = new Set(["common", "organizations", "consumers"]);

/** The normalised tenant segment (GUIDs lower-cased), or `undefined` when it is not one Entra would accept. */
export function parseTenant(segment: string): string | undefined {
  const lower = segment.toLowerCase();
  return GUID.test(lower) || ALIASES.has(lower) ? lower : undefined;
}

/**
 * The issuer a metadata document (and its keys) name. For a tenant GUID it is exact; for
 * `common` / `organizations` Entra answers with the template `…/{tenantid}/v2.0`, which strict
 * clients reject on the RFC 8414 §3.3 echo check. Reproduced on purpose: it is what production does.
 */
export function metadataIssuer(baseUrl: string, tenant: string, version: 1 | 2): string {
  return issuerOf(baseUrl, GUID.test(tenant) ? tenant : "{tenantid}", version);
}

/**
 * OpenID Connect discovery for the v2.0 endpoint, served at both the OIDC path and the RFC 8414
 * path. Entra's document plus what MCP clients look for and Entra omits: PKCE S256 (MCP 2025-11-25
 * clients refuse without it), grant types, dynamic registration, client ID metadata documents and
 * RFC 9207 `iss` in authorization responses.
 */
export function openIdConfiguration(baseUrl: string, tenant: string): Record<string, unknown> {
  const tenantBase = `${baseUrl}/${tenant}`;
  return {
    issuer: metadataIssuer(baseUrl, tenant, 2),
    authorization_endpoint: `${tenantBase}/oauth2/v2.0/authorize`,
    token_endpoint: `${tenantBase}/oauth2/v2.0/token`,
    jwks_uri: `${tenantBase}/discovery/v2.0/keys`,
    registration_endpoint: `${baseUrl}/register`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "nbf",
      "nonce",
      "preferred_username",
      "name",
      "tid",
      "oid",
      "ver",
    ],
    request_uri_parameter_supported: false,
  };
}

/**
 * The v1 document: only the issuer and key set differ in substance. Its endpoints point at the v2.0
 * protocol endpoints, because the provider does not implement the v1 protocol (`resource=` flows);
 * it exists so validators that accept v1 tokens can discover the v1 issuer instead of hard-coding it.
 */
export function openIdConfigurationV1(baseUrl: string, tenant: string): Record<string, unknown> {
  return {
    ...openIdConfiguration(baseUrl, tenant),
    issuer: metadataIssuer(baseUrl, tenant, 1),
    jwks_uri: `${baseUrl}/${tenant}/discovery/keys`,
  };
}

/**
 * The key set. Like Entra's, each key carries an `issuer` (the v2 issuer of the tenant, or the
 * `{tenantid}` template on multi-tenant paths) so validators can check the key belongs to the token's
 * issuer, and no `alg` (Entra publishes none; a validator must not depend on it).
 */
export function jwks(signer: TokenSigner, baseUrl: string, tenant: string): Record<string, unknown> {
  const { kty, n, e, kid } = signer.publicJwk;
  return { keys: [{ kty, use: "sig", kid, n, e, issuer: metadataIssuer(baseUrl, tenant, 2) }] };
}
