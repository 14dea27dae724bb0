import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { ClientRegistry, DevClient } from "./clients.js";
import type { Grant, GrantStore } from "./grants.js";
import { optional, required } from "./http.js";
import { GUID, sha256 } from "./ids.js";
import { DevOAuthError } from "./oauth-error.js";
import { checkResource, qualify, resolveScopes, type DevApp } from "./scopes.js";
import { accessTokenClaims, idTokenClaims, type TokenSigner } from "./tokens.js";

export interface TokenEndpointContext {
  readonly baseUrl: string;
  readonly app: DevApp;
  readonly accessTokenVersion: 1 | 2;
  readonly signer: TokenSigner;
  readonly clients: ClientRegistry;
  readonly grants: GrantStore;
}

const LIFETIME_SECONDS = 3600;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * `POST /{tenant}/oauth2/v2.0/token`: client credentials, authorization code with PKCE S256, and
 * rotating refresh tokens. Returns the JSON body of a 200 answer or throws {@link DevOAuthError}.
 */
export async function handleTokenRequest(
  context: TokenEndpointContext,
  tenant: string,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<Record<string, unknown>> {
  const grantType = required(form, "grant_type");
  switch (grantType) {
    case "client_credentials":
      return await clientCredentials(context, tenant, req, form);
    case "authorization_code":
      return await authorizationCode(context, req, form);
    case "refresh_token":
      return await refreshToken(context, req, form);
    default:
      throw new DevOAuthError(
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
      );
  }
}

async function clientCredentials(
  context: TokenEndpointContext,
  tenant: string,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<Record<string, unknown>> {
  const { client } = context.clients.authenticate(req, form);
  if (client.kind !== "confidential")
    throw new DevOAuthError(
      "unauthorized_client",
      700025,
      "Public clients can't use the client credentials grant.",
    );
  if (!GUID.test(tenant)) {
    throw new DevOAuthError(
      "invalid_request",
      90133,
      `The client credentials grant needs a tenant-specific endpoint, not '/${tenant}/'.`,
    );
  }
  const scope = required(form, "scope");
  const resolved = resolveScopes(scope, context.app);
  if (!resolved.usedDefault || resolved.oidc.length > 0) {
    throw new DevOAuthError(
      "invalid_scope",
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  checkResource(optional(form, "resource"), context.app);
  const claims = accessTokenClaims({
    baseUrl: context.baseUrl,
    app: context.app,
    tenantId: tenant,
    version: context.accessTokenVersion,
    subject: { kind: "app", roles: context.app.roles },
    clientAppId: client.appId,
    clientAuthentication: "1",
    lifetimeSeconds: LIFETIME_SECONDS,
  });
  return {
    token_type: "Bearer",
    expires_in: LIFETIME_SECONDS,
    ext_expires_in: LIFETIME_SECONDS,
    access_token: await context.signer.sign(claims),
  };
}

function pkceMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(sha256(verifier));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

async function authorizationCode(
  context: TokenEndpointContext,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<Record<string, unknown>> {
  const { client } = context.clients.authenticate(req, form);
  const code = required(form, "code");
  const redirectUri = required(form, "redirect_uri");
  const verifier = required(form, "code_verifier");
  checkResource(optional(form, "resource"), context.app);
  const redemption = context.grants.redeemCode(code);
  if (redemption.kind === "reused") {
    throw new DevOAuthError(
      "invalid_grant",
      54005,
      "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
    );
  }
  if (redemption.kind === "unknown")
    throw new DevOAuthError(
      "invalid_grant",
      70008,
      "The provided authorization code is unknown or has expired.",
    );
  const grant = redemption.grant;
  if (grant.clientId !== client.clientId)
    throw new DevOAuthError("invalid_grant", 70000, "The authorization code was issued to another client.");
  // Exact string match (RFC 6749 §4.1.3), no loopback port leeway here: it must be the URI the code was sent to.
  if (grant.redirectUri !== redirectUri) {
    throw new DevOAuthError(
      "invalid_grant",
      70000,
      "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
    );
  }
  if (!pkceMatches(verifier, grant.codeChallenge)) {
    throw new DevOAuthError(
      "invalid_grant",
      501481,
      "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    );
  }
  return await issueUserTokens(context, client, grant, grant.scopes, grant.nonce);
}

async function refreshToken(
  context: TokenEndpointContext,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<Record<string, unknown>> {
  const { client } = context.clients.authenticate(req, form);
  const token = required(form, "refresh_token");
  checkResource(optional(form, "resource"), context.app);
  const scope = optional(form, "scope");
  const rotation = context.grants.rotateRefreshToken(token);
  if (rotation.kind === "reused") {
    throw new DevOAuthError(
      "invalid_grant",
      70043,
      "The refresh token was already used. Refresh tokens rotate: every token issued from it has been revoked.",
    );
  }
  if (rotation.kind === "unknown")
    throw new DevOAuthError("invalid_grant", 70008, "The provided refresh token is unknown or has expired.");
  const { family, ...grant } = rotation.grant;
  if (grant.clientId !== client.clientId)
    throw new DevOAuthError("invalid_grant", 70000, "The refresh token was issued to another client.");
  let scopes = grant.scopes;
  if (scope !== undefined) {
    const resolved = resolveScopes(scope, context.app);
    const asked = resolved.usedDefault ? grant.scopes : resolved.resource;
    const missing = asked.filter((short) => !grant.scopes.includes(short));
    if (missing.length > 0) {
      throw new DevOAuthError(
        "invalid_grant",
        65001,
        `The user or administrator has not consented to use the application with scope ${missing.map((short) => qualify(context.app, short)).join(" ")}.`,
      );
    }
    scopes = asked;
  }
  return await issueUserTokens(context, client, grant, scopes, undefined, family);
}

/** Entra's token response for a user: access token, rotated refresh token with `offline_access`, ID token and `client_info` with `openid`. */
async function issueUserTokens(
  context: TokenEndpointContext,
  client: DevClient,
  grant: Grant,
  scopes: readonly string[],
  nonce: string | undefined,
  family?: string,
): Promise<Record<string, unknown>> {
  const claims = accessTokenClaims({
    baseUrl: context.baseUrl,
    app: context.app,
    tenantId: grant.tenantId,
    version: context.accessTokenVersion,
    subject: { kind: "user", user: grant.user, scopes, roles: grant.user.roles },
    clientAppId: grant.clientAppId,
    clientAuthentication: client.kind === "confidential" ? "1" : "0",
    lifetimeSeconds: LIFETIME_SECONDS,
  });
  const openid = grant.oidc.includes("openid");
  const idToken = openid
    ? await context.signer.sign(
        idTokenClaims({
          baseUrl: context.baseUrl,
          tenantId: grant.tenantId,
          user: grant.user,
          clientId: client.clientId,
          lifetimeSeconds: LIFETIME_SECONDS,
          ...(nonce !== undefined && { nonce }),
        }),
      )
    : undefined;
  return {
    token_type: "Bearer",
    scope: [...scopes.map((short) => qualify(context.app, short)), ...grant.oidc].join(" "),
    expires_in: LIFETIME_SECONDS,
    ext_expires_in: LIFETIME_SECONDS,
    access_token: await context.signer.sign(claims),
    ...(grant.oidc.includes("offline_access") && {
      refresh_token: context.grants.issueRefreshToken(grant, family),
    }),
    ...(idToken !== undefined && {
      id_token: idToken,
      // MSAL builds its account from client_info (uid, utid); without it result.account is empty.
      client_info: Buffer.from(JSON.stringify({ uid: grant.user.objectId, utid: grant.tenantId })).toString(
        "base64url",
      ),
    }),
  };
}
