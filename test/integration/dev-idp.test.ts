import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  auth,
  ClientCredentialsProvider,
  discoverAuthorizationServerMetadata,
  refreshAuthorization,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDevIdentityProvider, type DevIdentityProvider } from "paved-mcp/dev";
import { authorizeUrl, basic, consent, csrfOf, pkce, register, tokenRequest } from "../unit/dev/support.js";

const REDIRECT = "http://127.0.0.1:7777/callback";
const SCOPES = ["Weather.Read", "Weather.Write"];

let provider: DevIdentityProvider;
let stateRoot: string;
let keys: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  stateRoot = await mkdtemp(join(tmpdir(), "paved-dev-idp-it-"));
  provider = await createDevIdentityProvider({
    stateDir: join(stateRoot, ".paved"),
    scopes: SCOPES,
    roles: ["Weather.Reader"],
  });
  keys = createLocalJWKSet(
    (await (await fetch(`${provider.url}/${provider.tenantId}/discovery/v2.0/keys`)).json()) as JSONWebKeySet,
  );
});

afterAll(async () => {
  await provider.close();
  await rm(stateRoot, { recursive: true, force: true });
});

const scope = (...shorts: string[]) =>
  shorts.map((short) => `${provider.applicationIdUri}/${short}`).join(" ");

/** Reads an OAuth error answer: status, `error` and the AADSTS-like code. */
async function oauthError(response: Response): Promise<{ status: number; error: unknown; code: unknown }> {
  const body = (await response.json()) as { error: unknown; error_codes: unknown[] };
  return { status: response.status, error: body.error, code: body.error_codes[0] };
}

/** Runs a code flow for a freshly registered client and returns what the token exchange needs. */
async function codeFor(scopeParam: string, options: { user?: string; nonce?: string } = {}) {
  const clientId = await register(provider, [REDIRECT]);
  const { verifier, challenge } = pkce();
  const redirected = await consent(
    provider,
    {
      clientId,
      redirectUri: REDIRECT,
      scope: scopeParam,
      challenge,
      state: "s-1",
      ...(options.nonce !== undefined && { nonce: options.nonce }),
    },
    options.user,
  );
  return { clientId, verifier, code: redirected.searchParams.get("code")!, redirected };
}

function exchange(
  clientId: string,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return tokenRequest(provider, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    ...extra,
  });
}

describe("discovery", () => {
  it("serves the same v2 metadata at the OIDC and RFC 8414 paths, and the official client accepts its issuer echo", async () => {
    const paths = [
      `/${provider.tenantId}/v2.0/.well-known/openid-configuration`,
      `/.well-known/oauth-authorization-server/${provider.tenantId}/v2.0`,
      `/.well-known/openid-configuration/${provider.tenantId}/v2.0`,
    ];
    const documents = await Promise.all(
      paths.map(async (path) => {
        const response = await fetch(`${provider.url}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
        expect(response.headers.get("access-control-allow-origin")).toBe("*");
        return (await response.json()) as Record<string, unknown>;
      }),
    );
    expect(documents[1]).toEqual(documents[0]);
    expect(documents[2]).toEqual(documents[0]);
    const base = `${provider.url}/${provider.tenantId}`;
    expect(documents[0]).toMatchObject({
      issuer: provider.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      registration_endpoint: `${provider.url}/register`,
      code_challenge_methods_supported: ["S256"],
      grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
      response_types_supported: ["code"],
      token_endpoint_auth_methods_supported: expect.arrayContaining([
        "none",
        "client_secret_basic",
        "client_secret_post",
      ]),
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
    });

    const metadata = await discoverAuthorizationServerMetadata(provider.issuer);
    expect(metadata?.issuer).toBe(provider.issuer);
    expect(metadata?.token_endpoint).toBe(`${base}/oauth2/v2.0/token`);
  });

  it("serves the v1 document with the loopback stand-in for https://sts.windows.net/<tid>/", async () => {
    const v1 = (await (
      await fetch(`${provider.url}/${provider.tenantId}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(v1).toMatchObject({
      issuer: `${provider.url}/${provider.tenantId}/`,
      jwks_uri: `${provider.url}/${provider.tenantId}/discovery/keys`,
    });
  });

  it("answers multi-tenant paths with Entra's {tenantid} template issuer, and unknown tenants with 404", async () => {
    const organizations = (await (
      await fetch(`${provider.url}/organizations/v2.0/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(organizations["issuer"]).toBe(`${provider.url}/{tenantid}/v2.0`);
    expect((await fetch(`${provider.url}/contoso.com/v2.0/.well-known/openid-configuration`)).status).toBe(
      404,
    );
    expect((await fetch(`${provider.url}/nope`)).status).toBe(404);
  });

  it("publishes the signing key at both JWKS paths, with the tenant's issuer on the key as Entra does", async () => {
    for (const path of ["discovery/v2.0/keys", "discovery/keys"]) {
      const set = (await (
        await fetch(`${provider.url}/${provider.tenantId}/${path}`)
      ).json()) as JSONWebKeySet;
      expect(set.keys, path).toHaveLength(1);
      expect(set.keys[0]).toMatchObject({ kty: "RSA", use: "sig", issuer: provider.issuer });
      expect(set.keys[0]).not.toHaveProperty("d");
    }
    const common = (await (
      await fetch(`${provider.url}/common/discovery/v2.0/keys`)
    ).json()) as JSONWebKeySet;
    expect(common.keys[0]).toMatchObject({ issuer: `${provider.url}/{tenantid}/v2.0` });
  });

  it("refuses requests whose Host is not the loopback address it serves (DNS rebinding)", async () => {
    // fetch() cannot override Host; node:http can, which is what a rebinding page effectively does.
    const status = await new Promise<number>((resolve, reject) => {
      get(
        `${provider.url}/${provider.tenantId}/discovery/keys`,
        { headers: { host: "attacker.test" } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      ).on("error", reject);
    });
    expect(status).toBe(403);
  });
});

describe("client credentials", () => {
  let clientId = "";
  let clientSecret = "";
  beforeAll(() => {
    ({ clientId, clientSecret } = provider.confidentialClient);
  });

  it("issues an app-only token with client_secret_basic and with client_secret_post", async () => {
    for (const [headers, body] of [
      [{ authorization: basic(clientId, clientSecret) }, {}],
      [{}, { client_id: clientId, client_secret: clientSecret }],
    ] as const) {
      const response = await tokenRequest(
        provider,
        { grant_type: "client_credentials", scope: scope(".default"), ...body },
        headers,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const tokens = (await response.json()) as Record<string, unknown>;
      expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600 });
      expect(tokens).not.toHaveProperty("refresh_token");
      const { payload } = await jwtVerify(tokens["access_token"] as string, keys, {
        issuer: provider.issuer,
        audience: provider.clientId,
      });
      expect(payload).toMatchObject({
        idtyp: "app",
        roles: ["Weather.Reader"],
        azp: clientId,
        azpacr: "1",
        tid: provider.tenantId,
      });
      expect(payload).not.toHaveProperty("scp");
    }
  });

  it("answers a wrong secret with 401 invalid_client (AADSTS7000215) and a Basic challenge", async () => {
    const viaBasic = await tokenRequest(
      provider,
      { grant_type: "client_credentials", scope: scope(".default") },
      { authorization: basic(clientId, "wrong") },
    );
    expect(viaBasic.headers.get("www-authenticate")).toBe('Basic realm="paved-dev-idp"');
    expect(await oauthError(viaBasic)).toEqual({ status: 401, error: "invalid_client", code: 7000215 });
    const viaPost = await tokenRequest(provider, {
      grant_type: "client_credentials",
      scope: scope(".default"),
      client_id: clientId,
      client_secret: "wrong",
    });
    expect(viaPost.headers.get("www-authenticate")).toBeNull();
    expect(await oauthError(viaPost)).toEqual({ status: 401, error: "invalid_client", code: 7000215 });
    const noSecret = await tokenRequest(provider, {
      grant_type: "client_credentials",
      scope: scope(".default"),
      client_id: clientId,
    });
    expect(await oauthError(noSecret)).toEqual({ status: 401, error: "invalid_client", code: 7000218 });
    const unknown = await tokenRequest(
      provider,
      { grant_type: "client_credentials", scope: scope(".default") },
      { authorization: basic("99999999-9999-4999-8999-999999999999", "x") },
    );
    expect(await oauthError(unknown)).toEqual({ status: 401, error: "invalid_client", code: 700016 });
  });

  it("refuses two authentication methods, a scope without /.default, a foreign resource and tenant-less endpoints", async () => {
    const both = await tokenRequest(
      provider,
      { grant_type: "client_credentials", scope: scope(".default"), client_secret: clientSecret },
      { authorization: basic(clientId, clientSecret) },
    );
    expect(await oauthError(both)).toMatchObject({ status: 400, error: "invalid_request" });
    const named = await tokenRequest(
      provider,
      { grant_type: "client_credentials", scope: scope("Weather.Read") },
      { authorization: basic(clientId, clientSecret) },
    );
    expect(await oauthError(named)).toEqual({ status: 400, error: "invalid_scope", code: 1002012 });
    const resource = await tokenRequest(
      provider,
      {
        grant_type: "client_credentials",
        scope: scope(".default"),
        resource: `${provider.applicationIdUri}/`,
      },
      { authorization: basic(clientId, clientSecret) },
    );
    expect(await oauthError(resource)).toEqual({ status: 400, error: "invalid_target", code: 9010010 });
    const matching = await tokenRequest(
      provider,
      { grant_type: "client_credentials", scope: scope(".default"), resource: provider.applicationIdUri },
      { authorization: basic(clientId, clientSecret) },
    );
    expect(matching.status).toBe(200);
    const organizations = await tokenRequest(
      provider,
      { grant_type: "client_credentials", scope: scope(".default") },
      { authorization: basic(clientId, clientSecret) },
      "organizations",
    );
    expect(await oauthError(organizations)).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects repeated parameters, other content types and unknown grants", async () => {
    const repeated = await fetch(`${provider.url}/${provider.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basic(clientId, clientSecret),
      },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(scope(".default"))}&scope=x`,
    });
    expect(await oauthError(repeated)).toMatchObject({ status: 400, error: "invalid_request" });
    const json = await fetch(`${provider.url}/${provider.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(await oauthError(json)).toMatchObject({ status: 400, error: "invalid_request" });
    const password = await tokenRequest(provider, {
      grant_type: "password",
      username: "alice",
      password: "x",
    });
    expect(await oauthError(password)).toEqual({ status: 400, error: "unsupported_grant_type", code: 70003 });
  });
});

describe("authorization code with PKCE", () => {
  it("runs end to end in plain HTTP: consent page, redirect with code, state and iss, code exchange", async () => {
    const { clientId, verifier, code, redirected } = await codeFor(
      `${scope("Weather.Read", "Weather.Write")} openid profile offline_access`,
      { nonce: "n-0S6" },
    );
    expect(`${redirected.origin}${redirected.pathname}`).toBe(REDIRECT);
    expect(redirected.searchParams.get("state")).toBe("s-1");
    expect(redirected.searchParams.get("iss")).toBe(provider.issuer);

    const response = await exchange(clientId, code, verifier, { resource: provider.applicationIdUri });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as Record<string, string>;
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    expect(tokens["scope"]!.split(" ").sort()).toEqual(
      [...scope("Weather.Read", "Weather.Write").split(" "), "offline_access", "openid", "profile"].sort(),
    );
    const { payload } = await jwtVerify(tokens["access_token"]!, keys, {
      issuer: provider.issuer,
      audience: provider.clientId,
    });
    expect(payload).toMatchObject({
      scp: "Weather.Read Weather.Write",
      azp: clientId,
      azpacr: "0",
      preferred_username: "alice@paved.test",
      ver: "2.0",
    });
    expect(payload).not.toHaveProperty("idtyp");
    const idToken = await jwtVerify(tokens["id_token"]!, keys, {
      issuer: provider.issuer,
      audience: clientId,
    });
    expect(idToken.payload).toMatchObject({ nonce: "n-0S6", oid: payload.oid, tid: provider.tenantId });
    expect(JSON.parse(Buffer.from(tokens["client_info"]!, "base64url").toString())).toEqual({
      uid: payload.oid,
      utid: provider.tenantId,
    });
    expect(tokens["refresh_token"]).toEqual(expect.any(String));
  });

  it("grants only what the user left checked, for the user picked", async () => {
    const clientId = await register(provider, [REDIRECT]);
    const { verifier, challenge } = pkce();
    const redirected = await consent(
      provider,
      { clientId, redirectUri: REDIRECT, scope: scope(".default"), challenge },
      "bob",
      [scope("Weather.Write")],
    );
    const tokens = (await (
      await exchange(clientId, redirected.searchParams.get("code")!, verifier)
    ).json()) as Record<string, string>;
    expect(decodeJwt(tokens["access_token"]!)).toMatchObject({
      scp: "Weather.Read",
      preferred_username: "bob@paved.test",
    });
    expect(tokens).not.toHaveProperty("refresh_token");
    expect(tokens).not.toHaveProperty("id_token");
  });

  it("refuses a wrong verifier (AADSTS501481), a reused code (AADSTS54005) and a different redirect_uri", async () => {
    const wrong = await codeFor(scope("Weather.Read"));
    expect(await oauthError(await exchange(wrong.clientId, wrong.code, pkce().verifier))).toEqual({
      status: 400,
      error: "invalid_grant",
      code: 501481,
    });

    const good = await codeFor(scope("Weather.Read"));
    expect((await exchange(good.clientId, good.code, good.verifier)).status).toBe(200);
    expect(await oauthError(await exchange(good.clientId, good.code, good.verifier))).toEqual({
      status: 400,
      error: "invalid_grant",
      code: 54005,
    });

    const moved = await codeFor(scope("Weather.Read"));
    expect(
      await oauthError(
        await exchange(moved.clientId, moved.code, moved.verifier, {
          redirect_uri: "http://127.0.0.1:7778/callback",
        }),
      ),
    ).toEqual({
      status: 400,
      error: "invalid_grant",
      code: 70000,
    });

    const stolen = await codeFor(scope("Weather.Read"));
    const thief = await register(provider, [REDIRECT]);
    expect(await oauthError(await exchange(thief, stolen.code, stolen.verifier))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
  });

  it("refuses a resource that is not the Application ID URI at the token endpoint (AADSTS9010010)", async () => {
    const flow = await codeFor(scope("Weather.Read"));
    expect(
      await oauthError(
        await exchange(flow.clientId, flow.code, flow.verifier, { resource: "http://127.0.0.1:8080/mcp" }),
      ),
    ).toEqual({ status: 400, error: "invalid_target", code: 9010010 });
  });

  it("sends request errors back to a verified redirect URI with state and iss, and shows a page for unverified ones", async () => {
    const clientId = await register(provider, [REDIRECT]);
    const { challenge } = pkce();
    const cases: [Record<string, string>, string][] = [
      [{ resource: "http://127.0.0.1:8080/mcp" }, "invalid_target"],
      [{ scope: "Weather.Read" }, "invalid_scope"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ code_challenge: "" }, "invalid_request"],
      [{ response_type: "token" }, "unsupported_response_type"],
    ];
    for (const [override, error] of cases) {
      const url = new URL(
        authorizeUrl(provider, {
          clientId,
          redirectUri: REDIRECT,
          scope: scope("Weather.Read"),
          challenge,
          state: "st",
        }),
      );
      for (const [key, value] of Object.entries(override)) url.searchParams.set(key, value);
      const response = await fetch(url, { redirect: "manual" });
      expect(response.status, JSON.stringify(override)).toBe(302);
      const location = new URL(response.headers.get("location")!);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({
        error,
        state: "st",
        iss: provider.issuer,
      });
    }
    const unregistered = await fetch(
      authorizeUrl(provider, {
        clientId,
        redirectUri: "https://evil.test/cb",
        scope: scope("Weather.Read"),
        challenge,
      }),
      { redirect: "manual" },
    );
    expect(unregistered.status).toBe(400);
    expect(unregistered.headers.get("location")).toBeNull();
    const unknownClient = await fetch(
      authorizeUrl(provider, {
        clientId: "99999999-9999-4999-8999-999999999999",
        redirectUri: REDIRECT,
        scope: scope("Weather.Read"),
        challenge,
      }),
      { redirect: "manual" },
    );
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.headers.get("location")).toBeNull();
  });
});

describe("the consent page", () => {
  it("is served under a strict CSP, escapes what the client supplied, and lists users and scopes", async () => {
    const clientId = await register(provider, [REDIRECT], `<script>alert("x")</script>`);
    const response = await fetch(
      authorizeUrl(provider, {
        clientId,
        redirectUri: REDIRECT,
        scope: `${scope(".default")} openid`,
        challenge: pkce().challenge,
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self' http:\/\/127\.0\.0\.1:7777; frame-ancestors 'none'; base-uri 'none'$/,
    );
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const html = await response.text();
    expect(html).not.toContain("<script");
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
    expect(html.match(/type="radio" name="user"/g)).toHaveLength(2);
    expect([...html.matchAll(/name="scope" value="([^"]+)"/g)].map((match) => match[1])).toEqual([
      ...scope(...SCOPES).split(" "),
      "openid",
    ]);
  });

  it("takes a consent only with its own page's CSRF token, once, from its own origin", async () => {
    const clientId = await register(provider, [REDIRECT]);
    const action = `${provider.url}/${provider.tenantId}/oauth2/v2.0/authorize`;
    const post = (fields: Record<string, string>, origin = provider.url) =>
      fetch(action, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
        body: new URLSearchParams(fields),
        redirect: "manual",
      });

    expect((await post({ user: "alice", action: "consent", scope: scope("Weather.Read") })).status).toBe(400);
    expect(
      (await post({ csrf: "forged", user: "alice", action: "consent", scope: scope("Weather.Read") })).status,
    ).toBe(400);

    const page = await (
      await fetch(
        authorizeUrl(provider, {
          clientId,
          redirectUri: REDIRECT,
          scope: scope("Weather.Read"),
          challenge: pkce().challenge,
        }),
      )
    ).text();
    const csrf = csrfOf(page);
    expect(
      (
        await post(
          { csrf, user: "alice", action: "consent", scope: scope("Weather.Read") },
          "https://evil.test",
        )
      ).status,
    ).toBe(403);
    const accepted = await post({ csrf, user: "alice", action: "consent", scope: scope("Weather.Read") });
    expect(accepted.status).toBe(303);
    expect(
      (await post({ csrf, user: "alice", action: "consent", scope: scope("Weather.Read") })).status,
    ).toBe(400);
  });

  it("redirects a cancel as access_denied", async () => {
    const clientId = await register(provider, [REDIRECT]);
    const page = await (
      await fetch(
        authorizeUrl(provider, {
          clientId,
          redirectUri: REDIRECT,
          scope: scope("Weather.Read"),
          challenge: pkce().challenge,
          state: "c",
        }),
      )
    ).text();
    const response = await fetch(`${provider.url}/${provider.tenantId}/oauth2/v2.0/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrfOf(page), action: "cancel" }),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    expect(Object.fromEntries(new URL(response.headers.get("location")!).searchParams)).toMatchObject({
      error: "access_denied",
      state: "c",
      iss: provider.issuer,
    });
  });
});

describe("refresh tokens", () => {
  it("rotate: each works once, and presenting a used one revokes the whole family", async () => {
    const flow = await codeFor(`${scope("Weather.Read", "Weather.Write")} offline_access`);
    const first = (await (await exchange(flow.clientId, flow.code, flow.verifier)).json()) as Record<
      string,
      string
    >;
    const refresh = (token: string, extra: Record<string, string> = {}) =>
      tokenRequest(provider, {
        grant_type: "refresh_token",
        client_id: flow.clientId,
        refresh_token: token,
        ...extra,
      });

    const second = await refresh(first["refresh_token"]!, { scope: scope("Weather.Read") });
    expect(second.status).toBe(200);
    const rotated = (await second.json()) as Record<string, string>;
    expect(rotated["refresh_token"]).not.toBe(first["refresh_token"]);
    expect(decodeJwt(rotated["access_token"]!)).toMatchObject({ scp: "Weather.Read" });

    const broader = await refresh(rotated["refresh_token"]!, { scope: scope("Weather.Write") });
    expect(broader.status).toBe(200); // still within the original grant
    const third = (await broader.json()) as Record<string, string>;

    expect(await oauthError(await refresh(first["refresh_token"]!))).toEqual({
      status: 400,
      error: "invalid_grant",
      code: 70043,
    });
    // the replay revoked the live token of the family too
    expect(await oauthError(await refresh(third["refresh_token"]!))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
  });

  it("refuses scopes beyond the grant (AADSTS65001) and another client's token", async () => {
    const flow = await codeFor(`${scope("Weather.Read")} offline_access`);
    const tokens = (await (await exchange(flow.clientId, flow.code, flow.verifier)).json()) as Record<
      string,
      string
    >;
    const widened = await tokenRequest(provider, {
      grant_type: "refresh_token",
      client_id: flow.clientId,
      refresh_token: tokens["refresh_token"]!,
      scope: scope("Weather.Write"),
    });
    expect(await oauthError(widened)).toEqual({ status: 400, error: "invalid_grant", code: 65001 });

    const other = await codeFor(`${scope("Weather.Read")} offline_access`);
    const otherTokens = (await (await exchange(other.clientId, other.code, other.verifier)).json()) as Record<
      string,
      string
    >;
    const thief = await register(provider, [REDIRECT]);
    const stolen = await tokenRequest(provider, {
      grant_type: "refresh_token",
      client_id: thief,
      refresh_token: otherTokens["refresh_token"]!,
    });
    expect(await oauthError(stolen)).toMatchObject({ status: 400, error: "invalid_grant" });
  });
});

describe("dynamic client registration (RFC 7591)", () => {
  it("registers public clients with loopback or https redirect URIs", async () => {
    const response = await fetch(`${provider.url}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        redirect_uris: [REDIRECT, "https://app.test/cb"],
        client_name: "Inspector",
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code", "refresh_token"],
      }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      client_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      client_id_issued_at: expect.any(Number),
      client_name: "Inspector",
      redirect_uris: [REDIRECT, "https://app.test/cb"],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    });
    expect(body).not.toHaveProperty("client_secret");
  });

  it("refuses other redirect URIs, grant types and malformed requests", async () => {
    const post = (body: unknown, type = "application/json") =>
      fetch(`${provider.url}/register`, {
        method: "POST",
        headers: { "content-type": type },
        body: JSON.stringify(body),
      });
    expect(await oauthError(await post({ redirect_uris: ["http://app.test/cb"] }))).toMatchObject({
      status: 400,
      error: "invalid_redirect_uri",
    });
    expect(await oauthError(await post({ redirect_uris: [] }))).toMatchObject({
      status: 400,
      error: "invalid_redirect_uri",
    });
    expect(
      await oauthError(await post({ redirect_uris: [REDIRECT], grant_types: ["client_credentials"] })),
    ).toMatchObject({ status: 400, error: "invalid_client_metadata" });
    expect(await oauthError(await post({ redirect_uris: [REDIRECT] }, "text/plain"))).toMatchObject({
      status: 400,
      error: "invalid_client_metadata",
    });
    expect((await fetch(`${provider.url}/register`)).status).toBe(405);
  });
});

describe("client ID metadata documents", () => {
  let documents: Server;
  let origin: string;
  const served = new Map<string, unknown>();

  beforeAll(async () => {
    documents = createServer((req, res) => {
      const document = served.get(req.url ?? "");
      if (document === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document));
    });
    await new Promise<void>((resolve) => documents.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(documents.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => documents.close(() => resolve()));
  });

  it("fetches the document, checks client_id and redirect URIs, and runs the code flow for that client", async () => {
    const clientId = `${origin}/client.json`;
    served.set("/client.json", {
      client_id: clientId,
      client_name: "Metadata Client",
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none",
    });
    const { verifier, challenge } = pkce();
    const page = await (
      await fetch(
        authorizeUrl(provider, { clientId, redirectUri: REDIRECT, scope: scope("Weather.Read"), challenge }),
      )
    ).text();
    expect(page).toContain("Metadata Client");
    const redirected = await consent(provider, {
      clientId,
      redirectUri: REDIRECT,
      scope: scope("Weather.Read"),
      challenge,
    });
    const response = await exchange(clientId, redirected.searchParams.get("code")!, verifier);
    expect(response.status).toBe(200);
    const claims = decodeJwt(((await response.json()) as Record<string, string>)["access_token"]!);
    expect(claims["azp"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claims["azpacr"]).toBe("0");
  });

  it("refuses a document whose client_id differs, whose redirect URIs do not hold the request's, that asks for a secret, or that is missing", async () => {
    const { challenge } = pkce();
    const cases: [string, unknown][] = [
      ["/mismatch.json", { client_id: `${origin}/other.json`, redirect_uris: [REDIRECT] }],
      [
        "/elsewhere.json",
        { client_id: `${origin}/elsewhere.json`, redirect_uris: ["http://127.0.0.1:9999/other"] },
      ],
      [
        "/secret.json",
        {
          client_id: `${origin}/secret.json`,
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: "client_secret_basic",
        },
      ],
      ["/missing.json", undefined],
    ];
    for (const [path, document] of cases) {
      if (document !== undefined) served.set(path, document);
      const response = await fetch(
        authorizeUrl(provider, {
          clientId: `${origin}${path}`,
          redirectUri: REDIRECT,
          scope: scope("Weather.Read"),
          challenge,
        }),
        { redirect: "manual" },
      );
      expect(response.status, path).toBe(400);
      expect(response.headers.get("location"), path).toBeNull();
    }
  });
});

describe("with the official MCP client (@modelcontextprotocol/client)", () => {
  let resourceServer: Server;
  let mcpUrl: string;
  let sdkProvider: DevIdentityProvider;

  beforeAll(async () => {
    // A stand-in MCP server: only its RFC 9728 metadata matters to the client's auth flow.
    resourceServer = createServer((req, res) => {
      if (req.url === "/.well-known/oauth-protected-resource/mcp") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            resource: mcpUrl,
            authorization_servers: [sdkProvider.issuer],
            scopes_supported: [`${mcpUrl}/Weather.Read`],
          }),
        );
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => resourceServer.listen(0, "127.0.0.1", resolve));
    mcpUrl = `http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/mcp`;
    sdkProvider = await createDevIdentityProvider({
      stateDir: join(stateRoot, ".paved-sdk"),
      applicationIdUri: mcpUrl,
      scopes: ["Weather.Read"],
    });
  });

  afterAll(async () => {
    await sdkProvider.close();
    await new Promise<void>((resolve) => resourceServer.close(() => resolve()));
  });

  it("client credentials: PRM and AS discovery, issuer echo, client_secret_basic and RFC 8707 resource", async () => {
    const client = new ClientCredentialsProvider({
      ...sdkProvider.confidentialClient,
      expectedIssuer: sdkProvider.issuer,
    });
    expect(await auth(client, { serverUrl: mcpUrl, scope: `${mcpUrl}/.default` })).toBe("AUTHORIZED");
    const claims = decodeJwt(client.tokens()!.access_token);
    expect(claims).toMatchObject({ aud: sdkProvider.clientId, idtyp: "app", iss: sdkProvider.issuer });
  });

  it("authorization code: dynamic registration, PKCE, resource, RFC 9207 iss check, code exchange and refresh", async () => {
    const redirectUrl = "http://127.0.0.1:7799/callback";
    let info: StoredOAuthClientInformation | undefined;
    let tokens: StoredOAuthTokens | undefined;
    let verifier = "";
    let authorizationUrl: URL | undefined;
    let discovery: OAuthDiscoveryState | undefined;
    const client: OAuthClientProvider = {
      redirectUrl,
      clientMetadata: {
        redirect_uris: [redirectUrl],
        client_name: "SDK test",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
      clientInformation: () => info,
      saveClientInformation: (value) => void (info = value),
      tokens: () => tokens,
      saveTokens: (value) => void (tokens = value),
      redirectToAuthorization: (url) => void (authorizationUrl = url),
      saveCodeVerifier: (value) => void (verifier = value),
      codeVerifier: () => verifier,
      // lets the client check the callback leg against the authorization server it discovered (SEP-2352)
      saveDiscoveryState: (value) => void (discovery = value),
      discoveryState: () => discovery,
    };
    expect(await auth(client, { serverUrl: mcpUrl, scope: `${mcpUrl}/Weather.Read offline_access` })).toBe(
      "REDIRECT",
    );
    expect(info?.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(authorizationUrl?.searchParams.get("resource")).toBe(mcpUrl);

    // the user's part, in plain HTTP
    const page = await (await fetch(authorizationUrl!)).text();
    const consented = await fetch(`${sdkProvider.url}/${sdkProvider.tenantId}/oauth2/v2.0/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([
        ["csrf", csrfOf(page)],
        ["user", "bob"],
        ["action", "consent"],
        ["scope", `${mcpUrl}/Weather.Read`],
        ["scope", "offline_access"],
      ]),
      redirect: "manual",
    });
    const callback = new URL(consented.headers.get("location")!);

    expect(
      await auth(client, {
        serverUrl: mcpUrl,
        authorizationCode: callback.searchParams.get("code")!,
        iss: callback.searchParams.get("iss")!,
      }),
    ).toBe("AUTHORIZED");
    expect(decodeJwt(tokens!.access_token)).toMatchObject({
      scp: "Weather.Read",
      preferred_username: "bob@paved.test",
      aud: sdkProvider.clientId,
    });

    const metadata = await discoverAuthorizationServerMetadata(sdkProvider.issuer);
    const refreshed = await refreshAuthorization(sdkProvider.issuer, {
      metadata: metadata!,
      clientInformation: info!,
      refreshToken: tokens!.refresh_token!,
      resource: new URL(mcpUrl),
    });
    expect(refreshed.refresh_token).not.toBe(tokens!.refresh_token);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ scp: "Weather.Read" });
  });
});
