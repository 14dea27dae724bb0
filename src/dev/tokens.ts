import { SignJWT, importJWK, type JWK, type JWTPayload } from "jose";
import { guidFrom, opaque, pairwiseSubject } from "./ids.js";
import type { DevApp } from "./scopes.js";
import type { StoredSigningKey } from "./state.js";
import type { ResolvedUser } from "./users.js";

/** Signs with the provider's one RS256 key; `publicJwk` is what the JWKS publishes. */
export interface TokenSigner {
  readonly kid: string;
  readonly publicJwk: JWK;
  sign(claims: JWTPayload): Promise<string>;
}

export async function createSigner(stored: StoredSigningKey): Promise<TokenSigner> {
  const { kty, n, e } = stored.privateJwk;
  const key = await importJWK(stored.privateJwk, "RS256");
  // Only the public members: a JWKS built by spreading the private JWK would publish `d`.
  const publicJwk = { kty, n, e, kid: stored.kid, use: "sig", alg: "RS256" } as JWK;
  return {
    kid: stored.kid,
    publicJwk,
    // Entra access tokens say `typ: "JWT"`, not RFC 9068 `at+jwt`: validators must cope with exactly that.
    sign: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: stored.kid }).sign(key),
  };
}

/**
 * Issuers, Entra's shapes on loopback. v2: `<base>/<tid>/v2.0` (Entra: `https://login.microsoftonline.com/<tid>/v2.0`).
 * v1: `<base>/<tid>/` (Entra: `https://sts.windows.net/<tid>/`, a different host that loopback cannot
 * imitate; validators must take the v1 issuer from the v1 discovery document, never hard-code it).
 */
export function issuerOf(baseUrl: string, tenant: string, version: 1 | 2): string {
  return version === 2 ? `${baseUrl}/${tenant}/v2.0` : `${baseUrl}/${tenant}/`;
}

/** Who a token is for: a signed-in user (delegated `scp`) or the client itself (app-only `roles`). */
export type TokenSubject =
  | {
      readonly kind: "user";
      readonly user: ResolvedUser;
      readonly scopes: readonly string[];
      readonly roles: readonly string[];
    }
  | { readonly kind: "app"; readonly roles: readonly string[] };

export interface AccessTokenInput {
  readonly baseUrl: string;
  readonly app: DevApp;
  readonly tenantId: string;
  readonly version: 1 | 2;
  readonly subject: TokenSubject;
  /** The calling client (`azp` / `appid`). */
  readonly clientAppId: string;
  /** `azpacr` / `appidacr`: 0 public client, 1 client secret, 2 certificate. */
  readonly clientAuthentication: "0" | "1" | "2";
  /** Seconds. */
  readonly lifetimeSeconds: number;
  /** Seconds since the epoch. Default: now. */
  readonly issuedAt?: number;
}

/** The claim set Entra puts in an access token of that version (access-token-claims-reference). */
export function accessTokenClaims(input: AccessTokenInput): JWTPayload {
  const iat = input.issuedAt ?? Math.floor(Date.now() / 1000);
  const { subject, tenantId } = input;
  // App-only tokens carry the client's service principal as `oid` and `sub` (Entra does the same).
  const objectId =
    subject.kind === "user"
      ? subject.user.objectId
      : guidFrom("service-principal", tenantId, input.clientAppId);
  const sub = subject.kind === "user" ? pairwiseSubject(objectId, input.app.clientId) : objectId;
  const common: JWTPayload = {
    iss: issuerOf(input.baseUrl, tenantId, input.version),
    iat,
    nbf: iat,
    exp: iat + input.lifetimeSeconds,
    oid: objectId,
    sub,
    tid: tenantId,
    uti: opaque(16),
    ...(subject.kind === "user" && subject.scopes.length > 0 && { scp: subject.scopes.join(" ") }),
    ...(subject.roles.length > 0 && { roles: [...subject.roles] }),
    ...(subject.kind === "app" && { idtyp: "app" }),
  };
  if (input.version === 2) {
    return {
      aud: input.app.clientId,
      ...common,
      azp: input.clientAppId,
      azpacr: input.clientAuthentication,
      ...(subject.kind === "user" && { name: subject.user.name, preferred_username: subject.user.username }),
      ver: "2.0",
    };
  }
  return {
    aud: `api://${input.app.clientId}`,
    ...common,
    appid: input.clientAppId,
    appidacr: input.clientAuthentication,
    ...(subject.kind === "user" && {
      name: subject.user.name,
      upn: subject.user.username,
      unique_name: subject.user.username,
      amr: ["pwd"],
    }),
    ver: "1.0",
  };
}

export interface IdTokenInput {
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly user: ResolvedUser;
  /** The client the ID token is for (`aud`). */
  readonly clientId: string;
  readonly nonce?: string;
  readonly lifetimeSeconds: number;
}

/** An OpenID Connect ID token, v2 shape: `aud` is the client, never the API. */
export function idTokenClaims(input: IdTokenInput): JWTPayload {
  const iat = Math.floor(Date.now() / 1000);
  return {
    aud: input.clientId,
    iss: issuerOf(input.baseUrl, input.tenantId, 2),
    iat,
    nbf: iat,
    exp: iat + input.lifetimeSeconds,
    name: input.user.name,
    ...(input.nonce !== undefined && { nonce: input.nonce }),
    oid: input.user.objectId,
    preferred_username: input.user.username,
    sub: pairwiseSubject(input.user.objectId, input.clientId),
    tid: input.tenantId,
    uti: opaque(16),
    ver: "2.0",
  };
}
