import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { exportJWK } from "jose";
import type { z } from "zod";
import { createOidcValidator, type OidcValidator } from "../../../src/auth/oidc.js";
import { IdentityUnavailableError, InvalidTokenError } from "../../../src/auth/token-validator.js";
import { oidcSchema } from "../../../src/config/identity-schema.js";
import {
  nowSeconds,
  startRequestCounter,
  startTokenIssuer,
  type MintOptions,
  type TokenIssuer,
} from "../../fixtures/token-issuer.js";

const MCP = "https://mcp.test/mcp";
const AT_JWT = { header: { typ: "at+jwt" } } as const;

let issuer: TokenIssuer;
let attacker: Awaited<ReturnType<typeof startRequestCounter>>;
const opened: OidcValidator[] = [];
const fetched: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  fetched.push(input instanceof Request ? input.url : String(input));
  return fetch(input, init);
};

beforeAll(async () => {
  issuer = await startTokenIssuer();
  attacker = await startRequestCounter();
});
afterAll(async () => {
  await issuer.close();
  await attacker.close();
});
afterEach(() => {
  for (const validator of opened.splice(0)) validator.close();
  vi.useRealTimers();
  issuer.up();
  issuer.oidc.discovery = "openid";
  issuer.oidc.metadataIssuer = undefined;
});

function create(
  overrides: Partial<z.input<typeof oidcSchema>> = {},
  audiences: string[] = [MCP],
): OidcValidator {
  const config = oidcSchema.parse({ issuer: issuer.oidcIssuer, ...overrides });
  const validator = createOidcValidator(config, { audiences, fetch: countingFetch });
  opened.push(validator);
  return validator;
}

async function started(
  overrides: Partial<z.input<typeof oidcSchema>> = {},
  audiences: string[] = [MCP],
): Promise<OidcValidator> {
  const validator = create(overrides, audiences);
  await validator.start();
  return validator;
}

/** An RFC 9068 access token (typ at+jwt) from the OIDC issuer, for `MCP`. */
function token(overrides: Record<string, unknown> = {}, options: MintOptions = {}): string {
  return issuer.mint(issuer.oidcClaims(MCP, overrides), {
    ...options,
    header: { ...AT_JWT.header, ...options.header },
  });
}

async function expectRejected(validator: OidcValidator, jwt: string, reason: string): Promise<void> {
  const error = await validator.validate(jwt).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect((error as InvalidTokenError).reason).toBe(reason);
  const message = (error as InvalidTokenError).message;
  for (const segment of jwt.split("."))
    if (segment.length >= 8) expect(message).not.toContain(segment.slice(0, 16));
  expect(message).not.toContain("user-42");
  expect(message).not.toMatch(/["\\]/);
  await expect(validator.validate(jwt)).rejects.toBeInstanceOf(InvalidTokenError);
}

describe("OIDC validator: adversarial tokens (RFC 9068 profile, RS256)", () => {
  let validator: OidcValidator;
  beforeAll(async () => {
    validator = createOidcValidator(oidcSchema.parse({ issuer: issuer.oidcIssuer }), {
      audiences: [MCP],
      fetch: countingFetch,
    });
    await validator.start();
  });
  afterAll(() => validator.close());

  const now = nowSeconds;
  const cases: [name: string, reason: string, make: () => string | Promise<string>][] = [
    [
      "JWT-05: typ JWT (an Entra-style or ID token)",
      "token_type",
      () => token({}, { header: { typ: "JWT" } }),
    ],
    ["JWT-05: typ missing", "token_type", () => token({}, { header: { typ: undefined } })],
    ["JWT-05: typ id_token+jwt", "token_type", () => token({}, { header: { typ: "id_token+jwt" } })],
    [
      "JWT-05: typ at+jwt with a suffix",
      "token_type",
      () => token({}, { header: { typ: "at+jwt; charset=x" } }),
    ],
    ["JWT-09: aud with a trailing slash", "audience", () => token({ aud: `${MCP}/` })],
    ["JWT-09: aud is the origin only", "audience", () => token({ aud: "https://mcp.test" })],
    ["JWT-09: aud missing", "audience", () => token({ aud: undefined })],
    [
      "JWT-09: aud array without the resource",
      "audience",
      () => token({ aud: ["https://other.test/mcp", "account"] }),
    ],
    ["JWT-03: iss with a trailing slash", "issuer", () => token({ iss: `${issuer.oidcIssuer}/` })],
    [
      "JWT-03: iss in different case",
      "issuer",
      () => token({ iss: issuer.oidcIssuer.replace("/oidc", "/OIDC") }),
    ],
    ["JWT-03: iss missing", "issuer", () => token({ iss: undefined })],
    ["SEC-03: iss pointing at instance metadata", "issuer", () => token({ iss: "http://169.254.169.254/x" })],
    ["JWT-04: expired", "expired", () => token({ exp: now() - 600 })],
    ["JWT-04: exp missing", "claims", () => token({ exp: undefined })],
    ["JWT-04: nbf in the future", "not_yet_valid", () => token({ nbf: now() + 600 })],
    ["JWT-02: alg none", "algorithm", () => token({}, { alg: "none" })],
    [
      "JWT-01: HS256 keyed with the public key PEM",
      "algorithm",
      () => token({}, { alg: "HS256", secret: issuer.publicKeyPem() }),
    ],
    ["JWT-01: RS384 when only RS256 is allowed", "algorithm", () => token({}, { alg: "RS384" })],
    ["JWT-01: PS256", "algorithm", () => token({}, { alg: "PS256" })],
    ["JWT-01: ES256 header on an RSA issuer", "algorithm", () => token({}, { header: { alg: "ES256" } })],
    ["JWT-06: jku header", "key", () => token({}, { header: { jku: `${attacker.url}/jwks` } })],
    ["JWT-06: x5u header", "key", () => token({}, { header: { x5u: `${attacker.url}/cert` } })],
    ["tampered payload (sub swapped)", "signature", () => swapClaims(token(), { sub: "admin" })],
    [
      "signed by an unpublished key under the issuer's kid",
      "signature",
      async () => token({}, { key: (await issuer.foreignKey()).privateKey }),
    ],
    ["unknown kid", "key", () => token({}, { header: { kid: randomUUID() } })],
    ["JWT-08: a JWE", "malformed", () => issuer.mintJwe(issuer.oidcClaims(MCP))],
    ["JWT-08: oversized", "malformed", () => token({ pad: "y".repeat(20_000) })],
    ["crit header", "malformed", () => token({}, { header: { crit: ["b64"], b64: false } })],
    ["RFC 9068 §2.2: sub missing", "claims", () => token({ sub: undefined })],
    ["scope is a number", "claims", () => token({ scope: 7 })],
    ["roles is an object", "claims", () => token({ roles: { admin: true } })],
  ];

  it.each(cases)("%s → %s", async (_name, reason, make) => {
    await expectRejected(validator, await make(), reason);
  });

  it("JWT-06: an embedded jwk with the attacker's signature is refused; nothing but the issuer is ever fetched", async () => {
    const attackerKey = await issuer.foreignKey();
    fetched.length = 0;
    const jwt = token(
      {},
      {
        key: attackerKey.privateKey,
        header: { kid: "attacker", jwk: await exportJWK(attackerKey.publicKey), jku: `${attacker.url}/k` },
      },
    );
    await expectRejected(validator, jwt, "key");
    expect(attacker.count()).toBe(0);
    expect(fetched).toEqual([]);
  });
});

function swapClaims(jwt: string, changes: Record<string, unknown>): string {
  const [header, claims, signature] = jwt.split(".");
  const decoded = JSON.parse(Buffer.from(claims!, "base64url").toString()) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify({ ...decoded, ...changes })).toString("base64url")}.${signature}`;
}

describe("OIDC validator: accepted tokens", () => {
  it("an RFC 9068 token → issuer-scoped principal", async () => {
    const validator = await started();
    const claims = issuer.oidcClaims(MCP, {
      name: "Grace Hopper",
      preferred_username: "grace",
      roles: ["Admin"],
    });
    const validated = await validator.validate(issuer.mint(claims, AT_JWT));
    expect(validator.authorizationServer).toBe(issuer.oidcIssuer);
    expect(validated.expiresAt).toBe(claims["exp"]);
    expect(validated.principal).toEqual({
      id: `user-42@${issuer.oidcIssuer}`,
      clientId: "mcp-client",
      name: "Grace Hopper",
      username: "grace",
      scopes: ["tools.read", "tools.write"],
      roles: ["Admin"],
      isAppOnly: false,
      claims,
    });
    expect(Object.isFrozen(validated.principal.claims)).toBe(true);
  });

  it("JWT-05: typ application/at+jwt and AT+JWT (case-insensitive) are accepted", async () => {
    const validator = await started();
    await expect(
      validator.validate(token({}, { header: { typ: "application/at+jwt" } })),
    ).resolves.toBeDefined();
    await expect(validator.validate(token({}, { header: { typ: "AT+JWT" } }))).resolves.toBeDefined();
  });

  it("JWT-05: requireAccessTokenType false accepts typ JWT", async () => {
    const validator = await started({ requireAccessTokenType: false });
    await expect(validator.validate(token({}, { header: { typ: "JWT" } }))).resolves.toBeDefined();
  });

  it("scopes from `scp` as a string or an array when `scope` is absent", async () => {
    const validator = await started();
    const fromString = await validator.validate(token({ scope: undefined, scp: "a b" }));
    const fromArray = await validator.validate(token({ scope: undefined, scp: ["c", "d"], jti: "2" }));
    expect(fromString.principal.scopes).toEqual(["a", "b"]);
    expect(fromArray.principal.scopes).toEqual(["c", "d"]);
  });

  it("RFC 9068 §2.2: a client-credentials token (sub = client_id) is app-only", async () => {
    const validator = await started();
    const { principal } = await validator.validate(
      token({ sub: "mcp-client", scope: undefined, roles: ["Tools.Execute"] }),
    );
    expect(principal).toMatchObject({
      id: `mcp-client@${issuer.oidcIssuer}`,
      isAppOnly: true,
      scopes: [],
      roles: ["Tools.Execute"],
    });
  });

  it("JWT-09: aud array containing the resource; several configured audiences", async () => {
    const validator = await started({}, [MCP, "https://mcp.test"]);
    await expect(validator.validate(token({ aud: ["account", MCP] }))).resolves.toBeDefined();
    await expect(validator.validate(token({ aud: "https://mcp.test" }))).resolves.toBeDefined();
  });

  it("JWT-01: with [RS256, RS384] allowed, a key published with alg RS256 still refuses RS384 (one key, one algorithm)", async () => {
    const bound = await issuer.addKey({ alg: "RS256", issuer: null });
    const validator = await started({ algorithms: ["RS256", "RS384"] });
    await expect(validator.validate(token({}, { kid: bound.kid }))).resolves.toBeDefined();
    await expectRejected(validator, token({}, { kid: bound.kid, alg: "RS384" }), "algorithm");
    // A key without `alg` may serve any allow-listed RSA algorithm.
    await expect(validator.validate(token({}, { kid: "k1", alg: "RS384" }))).resolves.toBeDefined();
  });

  it("algorithms [PS256]: a PS256 token verifies, RS256 is refused", async () => {
    const validator = await started({ algorithms: ["PS256"] });
    await expect(validator.validate(token({}, { kid: "k1", alg: "PS256" }))).resolves.toBeDefined();
    await expectRejected(validator, token({}, { kid: "k1" }), "algorithm");
  });
});

describe("OIDC validator: discovery, keys and lifecycle", () => {
  beforeEach(() => {
    issuer.resetCounts();
    fetched.length = 0;
  });

  it("discovery: openid-configuration gives the key set", async () => {
    const validator = await started();
    expect(validator.ready()).toBe(true);
    expect(issuer.count("/oidc/.well-known/openid-configuration")).toBe(1);
    expect(issuer.count(issuer.paths.oidcKeys)).toBe(1);
  });

  it("discovery falls back to RFC 8414 (well-known inserted before the issuer path)", async () => {
    issuer.oidc.discovery = "oauth";
    const validator = await started();
    expect(issuer.count("/.well-known/oauth-authorization-server/oidc")).toBe(1);
    await expect(validator.validate(token())).resolves.toBeDefined();
  });

  it("RFC 8414 §3.3: a discovery document for another issuer → not started, IdentityUnavailableError", async () => {
    issuer.oidc.metadataIssuer = `${issuer.oidcIssuer}/`;
    const validator = create();
    await expect(validator.start()).rejects.toBeInstanceOf(IdentityUnavailableError);
    expect(validator.ready()).toBe(false);
    expect(issuer.count(issuer.paths.oidcKeys)).toBe(0);
    await expect(validator.validate(token())).rejects.toBeInstanceOf(IdentityUnavailableError);
  });

  it("jwksUri configured: no discovery request at all", async () => {
    const validator = await started({ jwksUri: `${issuer.origin}${issuer.paths.oidcKeys}` });
    await expect(validator.validate(token())).resolves.toBeDefined();
    expect(fetched).toEqual([`${issuer.origin}${issuer.paths.oidcKeys}`]);
  });

  it("down at start → IdentityUnavailableError and not ready; back up → start() resolves, tokens validate", async () => {
    issuer.down();
    const validator = create();
    await expect(validator.start()).rejects.toBeInstanceOf(IdentityUnavailableError);
    expect(validator.ready()).toBe(false);
    await expect(validator.validate(token())).rejects.toBeInstanceOf(IdentityUnavailableError);
    issuer.up();
    await validator.start();
    expect(validator.ready()).toBe(true);
    await expect(validator.validate(token())).resolves.toBeDefined();
  });

  it("a new kid after the cooldown → one refetch → accepted; the key set going down keeps the cached keys", async () => {
    const validator = await started();
    const rotated = await issuer.addKey({ issuer: null });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    await expect(validator.validate(token({}, { kid: rotated.kid }))).resolves.toBeDefined();
    expect(issuer.count(issuer.paths.oidcKeys)).toBe(2);
    issuer.down();
    vi.setSystemTime(Date.now() + 31_000);
    await expectRejected(validator, token({}, { header: { kid: "gone" } }), "key");
    await expect(
      validator.validate(token({ jti: randomUUID() }, { kid: rotated.kid })),
    ).resolves.toBeDefined();
  });

  it("construction refuses an empty audience list", () => {
    expect(() =>
      createOidcValidator(oidcSchema.parse({ issuer: issuer.oidcIssuer }), { audiences: [] }),
    ).toThrow(TypeError);
  });
});
