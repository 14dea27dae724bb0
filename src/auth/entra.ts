import type { AzureAdConfig } from "../config/schema.js";
import { createJwksCache, fetchJson, isFetchableUrl, type JwksCache } from "./jwks-cache.js";
import {
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

/** The tenant of personal Microsoft accounts (MSA): never a work or school tenant (ENTRA-04). */
export const MSA_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad";
/** Entra signs access tokens with RS256 only; nothing else is worth accepting. */
const ALGORITHMS = ["RS256"] as const;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TEMPLATE = "{tenantid}";

/** An Entra ID validator, plus what Protected Resource Metadata and challenges need. */
export interface EntraValidator extends ManagedTokenValidator {
  /** The authorization server for PRM: `${instance}${tenantId}/v2.0` (the configured tenant segment, `organizations` and `common` included). */
  readonly authorizationServer: string;
  /** The Application ID URI (default `api://<clientId>`): the prefix of fully qualified scopes. */
  readonly applicationIdUri: string;
}

/** One accepted token version: the issuer from its discovery document (maybe `{tenantid}`) and its keys. */
interface VersionProfile {
  readonly issuer: string;
  readonly keys: JwksCache;
}

/**
 * Validates Microsoft Entra ID access tokens for one app registration: single-tenant, multi-tenant
 * (`organizations`, `common`) and sovereign clouds (by `instance`). Issuer and keys come from the
 * tenant's discovery documents (v2, and v1 when `tokenVersions` includes 1); see ENTRA-01..11 for the
 * rules. The principal's `id` is `${tid}:${oid}` (ENTRA-10), `${tid}:app:${azp}` for an app-only
 * token without `oid`.
 *
 * @example
 * const validator = createEntraValidator(config.azureAd, { logger });
 * await validator.start();
 * const { principal } = await validator.validate(token);
 */
export function createEntraValidator(
  config: AzureAdConfig,
  options: JwtValidatorOptions = {},
): EntraValidator {
  const instance = config.instance.endsWith("/") ? config.instance : `${config.instance}/`;
  const applicationIdUri = config.applicationIdUri ?? `api://${config.clientId}`;
  const audiences = [...new Set([config.clientId, applicationIdUri, ...config.audiences])];
  const allowedTenants = config.allowedTenants?.map((tid) => tid.toLowerCase());
  const allowedClients = config.allowedClientApps?.map((app) => app.toLowerCase());
  const fetchOptions = { ...options.keys, ...(options.fetch !== undefined && { fetch: options.fetch }) };
  const caches = new Map<string, JwksCache>();
  const profiles = new Map<"1.0" | "2.0", VersionProfile>();
  const versions = [...new Set(config.tokenVersions)].map((v): "1.0" | "2.0" => (v === 2 ? "2.0" : "1.0"));

  async function discover(version: "1.0" | "2.0"): Promise<VersionProfile> {
    const url = `${instance}${config.tenantId}${version === "2.0" ? "/v2.0" : ""}/.well-known/openid-configuration`;
    const metadata = await fetchJson(url, fetchOptions);
    const issuer = metadata["issuer"];
    const jwksUri = metadata["jwks_uri"];
    // The issuer is never fetched, but it must look like one: an https URL once `{tenantid}` is filled in.
    if (typeof issuer !== "string" || !isFetchableUrl(issuer.replaceAll(TEMPLATE, MSA_TENANT_ID)))
      throw new Error(`${url}: no usable issuer`);
    if (typeof jwksUri !== "string" || !isFetchableUrl(jwksUri))
      throw new Error(`${url}: no usable jwks_uri`);
    let keys = caches.get(jwksUri);
    if (keys === undefined) {
      keys = createJwksCache(jwksUri, {
        ...fetchOptions,
        ...(options.logger !== undefined && { logger: options.logger }),
        ...(options.observer !== undefined && { observer: options.observer }),
      });
      caches.set(jwksUri, keys);
    }
    return { issuer, keys };
  }

  async function load(): Promise<void> {
    for (const version of versions) {
      let profile = profiles.get(version);
      if (profile === undefined) {
        profile = await discover(version);
        profiles.set(version, profile);
      }
      await profile.keys.load();
    }
  }

  const readiness = createReadiness({
    load,
    isReady: () =>
      profiles.size === versions.length && [...profiles.values()].every((profile) => profile.keys.ready()),
    retryMs: options.keys?.cooldownMs ?? 30_000,
    onClose: () => caches.forEach((cache) => cache.close()),
    name: "azureAd",
    ...(options.logger !== undefined && { logger: options.logger }),
  });

  /** ENTRA-04: `tid` is a GUID, of the configured tenant (single-tenant), not MSA for `organizations`, allow-listed. */
  function checkTenant(tid: string | undefined): string {
    if (tid === undefined || !GUID.test(tid))
      throw new InvalidTokenError("tenant", "The access token has no valid tenant");
    const lower = tid.toLowerCase();
    const single = GUID.test(config.tenantId) && lower !== config.tenantId.toLowerCase();
    const msa = config.tenantId === "organizations" && lower === MSA_TENANT_ID;
    if (single || msa || (allowedTenants !== undefined && !allowedTenants.includes(lower))) {
      throw new InvalidTokenError("tenant", "The access token is from a tenant that is not allowed");
    }
    return tid;
  }

  /**
   * ENTRA-05 (mirrors AadTokenValidationParametersExtension): a key that names an issuer signs only
   * for that issuer, `{tenantid}` substituted with the token's `tid`. The v2 issuer is accepted too,
   * because v1 tokens are signed by the same keys, which carry v2 issuers.
   */
  function checkKeyIssuer(verified: VerifiedJwt, tid: string): void {
    const keyIssuer = verified.jwk.issuer;
    if (keyIssuer === undefined || keyIssuer === "") return;
    const effective = typeof keyIssuer === "string" ? keyIssuer.replaceAll(TEMPLATE, tid) : undefined;
    const v2Issuer = profiles.get("2.0")?.issuer.replaceAll(TEMPLATE, tid);
    if (effective === undefined || (effective !== verified.claims.iss && effective !== v2Issuer)) {
      throw new InvalidTokenError("key", "The signing key is not valid for the access token's issuer");
    }
  }

  function toPrincipal(claims: VerifiedJwt["claims"], tid: string): Principal {
    const scopes = listClaim(claims, "scp", "string");
    const roles = listClaim(claims, "roles", "array");
    // ENTRA-06 / JWT-07: neither scopes nor roles means no consent was given to this API, or an ID token.
    if (scopes.length === 0 && roles.length === 0)
      throw new InvalidTokenError("claims", "The access token carries neither scopes nor roles");
    const clientId = stringClaim(claims, "azp") ?? stringClaim(claims, "appid");
    if (
      allowedClients !== undefined &&
      (clientId === undefined || !allowedClients.includes(clientId.toLowerCase()))
    ) {
      throw new InvalidTokenError("client", "The client application is not allowed to call this server");
    }
    const oid = stringClaim(claims, "oid")?.toLowerCase();
    const isAppOnly =
      stringClaim(claims, "idtyp") === "app" ||
      (scopes.length === 0 && (oid === undefined || oid === stringClaim(claims, "sub")));
    // GUIDs are case-insensitive: one spelling, so that one caller is one principal id.
    const tenant = tid.toLowerCase();
    let id: string;
    if (oid !== undefined && oid !== "") id = `${tenant}:${oid}`;
    else if (isAppOnly && clientId !== undefined && clientId !== "")
      id = `${tenant}:app:${clientId.toLowerCase()}`;
    else throw new InvalidTokenError("claims", "The access token has no object ID");
    const name = stringClaim(claims, "name");
    const username = stringClaim(claims, "preferred_username") ?? stringClaim(claims, "upn");
    return Object.freeze({
      id,
      tenantId: tenant,
      ...(oid !== undefined && oid !== "" && { objectId: oid }),
      ...(clientId !== undefined && { clientId }),
      ...(name !== undefined && { name }),
      ...(username !== undefined && { username }),
      scopes: Object.freeze(scopes),
      roles: Object.freeze(roles),
      isAppOnly,
      claims: deepFreeze({ ...claims }),
    });
  }

  async function validateUncached(token: string): Promise<ValidatedToken> {
    const { claims } = inspectJwt(token, { algorithms: ALGORITHMS });
    // ENTRA-02: the token version is a property of this API's registration; only configured ones pass.
    const ver = claims["ver"];
    const version = ver === "2.0" || ver === "1.0" ? ver : undefined;
    if (version === undefined || !config.tokenVersions.includes(version === "2.0" ? 2 : 1)) {
      throw new InvalidTokenError("token_type", "The access token version is not accepted");
    }
    // Tenant rules need no key: a foreign tenant's token costs neither a key fetch nor RSA.
    const tid = checkTenant(typeof claims["tid"] === "string" ? claims["tid"] : undefined);
    await readiness.ensure();
    const profile = profiles.get(version);
    if (profile === undefined)
      throw new InvalidTokenError("token_type", "The access token version is not accepted");
    const verified = await verifyJwt(token, {
      keys: profile.keys,
      algorithms: ALGORITHMS,
      // ENTRA-04: AadIssuerValidator semantics, the template filled with the (GUID) `tid`, then exact.
      issuer: profile.issuer.replaceAll(TEMPLATE, tid),
      audiences,
      clockSkewSeconds: config.clockSkewSeconds,
    });
    checkKeyIssuer(verified, tid);
    return { principal: toPrincipal(verified.claims, tid), expiresAt: verified.claims.exp };
  }

  return {
    authorizationServer: `${instance}${config.tenantId}/v2.0`,
    applicationIdUri,
    start: () => readiness.start(),
    ready: () => readiness.ready(),
    close: () => readiness.close(),
    validate: withTokenCache(validateUncached, options.tokenCache, options.observer),
  };
}
