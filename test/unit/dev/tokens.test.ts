import {
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from "jose";
import { describe, expect, it } from "vitest";
import type { DevIdentityProvider } from "paved-mcp/dev";
import { startProvider } from "./support.js";

const OTHER_TENANT = "33333333-3333-4333-8333-333333333333";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Verifies a token against the provider's published key set, as a resource server would. */
async function verify(
  provider: DevIdentityProvider,
  token: string,
  tenant = provider.tenantId,
): Promise<JWTPayload> {
  const keys = (await (await fetch(`${provider.url}/${tenant}/discovery/v2.0/keys`)).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(token, createLocalJWKSet(keys), { algorithms: ["RS256"] });
  return payload;
}

describe("minted token shapes", () => {
  it("v2 user token: Entra's claims, aud = client ID, scp as short names, pairwise sub, header typ JWT with kid", async () => {
    const provider = await startProvider({ scopes: ["Weather.Read", "Weather.Write"] });
    const token = await provider.mintToken({ user: "alice" });
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const claims = await verify(provider, token);
    expect(claims).toMatchObject({
      ver: "2.0",
      iss: `${provider.url}/${provider.tenantId}/v2.0`,
      aud: provider.clientId,
      tid: provider.tenantId,
      azp: provider.confidentialClient.clientId,
      azpacr: "1",
      scp: "Weather.Read Weather.Write",
      name: "Alice Developer",
      preferred_username: "alice@paved.test",
    });
    expect(claims.oid).toMatch(GUID);
    expect(claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims.sub).not.toBe(claims.oid);
    expect(claims.uti).toEqual(expect.any(String));
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims).not.toHaveProperty("idtyp");
    expect(claims).not.toHaveProperty("roles");
    expect(provider.issuer).toBe(claims.iss);
  });

  it("keeps a user's oid and sub stable and tells users apart", async () => {
    const provider = await startProvider();
    const [a1, a2, b] = await Promise.all([
      provider.mintToken({ user: "alice" }),
      provider.mintToken(),
      provider.mintToken({ user: "bob" }),
    ]);
    const [c1, c2, c3] = await Promise.all([verify(provider, a1), verify(provider, a2), verify(provider, b)]);
    expect([c2.oid, c2.sub]).toEqual([c1.oid, c1.sub]);
    expect(c3.oid).not.toBe(c1.oid);
    expect(c3.preferred_username).toBe("bob@paved.test");
    expect(c1.uti).not.toBe(c2.uti);
  });

  it("v2 app-only token: roles, idtyp app, no scp and no user claims", async () => {
    const provider = await startProvider({ roles: ["Weather.Reader", "Weather.Admin"] });
    const claims = await verify(provider, await provider.mintToken({ appOnly: true }));
    expect(claims).toMatchObject({
      ver: "2.0",
      aud: provider.clientId,
      idtyp: "app",
      roles: ["Weather.Reader", "Weather.Admin"],
      azpacr: "1",
    });
    expect(claims.oid).toMatch(GUID);
    expect(claims.sub).toBe(claims.oid);
    for (const absent of ["scp", "name", "preferred_username"]) expect(claims).not.toHaveProperty(absent);
  });

  it("v1 tokens: v1 issuer, aud api://<clientId>, appid, upn", async () => {
    const provider = await startProvider({ scopes: ["Weather.Read"] });
    const user = await verify(provider, await provider.mintToken({ version: 1, user: "bob" }));
    expect(user).toMatchObject({
      ver: "1.0",
      iss: `${provider.url}/${provider.tenantId}/`,
      aud: `api://${provider.clientId}`,
      appid: provider.confidentialClient.clientId,
      appidacr: "1",
      upn: "bob@paved.test",
      scp: "Weather.Read",
    });
    for (const absent of ["azp", "azpacr", "preferred_username"]) expect(user).not.toHaveProperty(absent);
    const app = await verify(provider, await provider.mintToken({ version: 1, appOnly: true, roles: ["R"] }));
    expect(app).toMatchObject({ ver: "1.0", idtyp: "app", roles: ["R"], aud: `api://${provider.clientId}` });
    expect(app).not.toHaveProperty("upn");
  });

  it("honours tenant, scopes, roles, client, lifetime, issuedAt and extra claims", async () => {
    const provider = await startProvider();
    const issuedAt = Math.floor(Date.now() / 1000) - 7200;
    const token = await provider.mintToken({
      tenantId: OTHER_TENANT,
      scopes: ["A", "B"],
      roles: ["Admin"],
      clientId: "aebc6443-996d-45c2-90f0-388ff96faa56",
      lifetimeSeconds: 600,
      issuedAt,
      claims: { xms_cc: ["cp1"] },
    });
    const keys = (await (
      await fetch(`${provider.url}/${OTHER_TENANT}/discovery/v2.0/keys`)
    ).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys), {
      currentDate: new Date((issuedAt + 10) * 1000),
    });
    expect(payload).toMatchObject({
      tid: OTHER_TENANT,
      iss: `${provider.url}/${OTHER_TENANT}/v2.0`,
      scp: "A B",
      roles: ["Admin"],
      azp: "aebc6443-996d-45c2-90f0-388ff96faa56",
      xms_cc: ["cp1"],
    });
    expect([payload.iat, payload.exp]).toEqual([issuedAt, issuedAt + 600]);
    // issued two hours ago with a ten-minute lifetime: expired now
    await expect(jwtVerify(token, createLocalJWKSet(keys))).rejects.toMatchObject({
      code: "ERR_JWT_EXPIRED",
    });
  });

  it("rejects a tenant that is not a GUID and a lifetime out of range", async () => {
    const provider = await startProvider();
    await expect(provider.mintToken({ tenantId: "contoso.com" })).rejects.toThrow(TypeError);
    await expect(provider.mintToken({ lifetimeSeconds: 0 })).rejects.toThrow(/lifetimeSeconds/);
  });
});
