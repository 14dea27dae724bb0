import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as jose from "jose";
import type { z } from "zod";
import { createEntraValidator, type EntraValidator } from "../../../src/auth/entra.js";
import type { JwtValidatorOptions } from "../../../src/auth/jwt-validator.js";
import { IdentityUnavailableError, InvalidTokenError } from "../../../src/auth/token-validator.js";
import { azureAdSchema } from "../../../src/config/identity-schema.js";
import {
  CLIENT_APP,
  CLIENT_ID,
  MSA_TENANT,
  TENANT_A,
  TENANT_B,
  USER_OID,
  nowSeconds,
  startRequestCounter,
  startTokenIssuer,
  type TokenIssuer,
} from "../../fixtures/token-issuer.js";

// Pass-through spies: they let tests prove that a cached token costs no key import and no verification.
vi.mock("jose", async (importOriginal) => {
  const actual = await importOriginal<typeof import("jose")>();
  return { ...actual, jwtVerify: vi.fn(actual.jwtVerify), importJWK: vi.fn(actual.importJWK) };
});

let issuer: TokenIssuer;
let attacker: Awaited<ReturnType<typeof startRequestCounter>>;
const opened: EntraValidator[] = [];
/** Every URL our validators fetched: egress is only ever the configured issuer. */
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
});

type Overrides = Partial<z.input<typeof azureAdSchema>>;

function create(overrides: Overrides = {}, options: JwtValidatorOptions = {}): EntraValidator {
  const config = azureAdSchema.parse({
    instance: issuer.instance,
    tenantId: TENANT_A,
    clientId: CLIENT_ID,
    ...overrides,
  });
  const validator = createEntraValidator(config, { fetch: countingFetch, ...options });
  opened.push(validator);
  return validator;
}

async function started(
  overrides: Overrides = {},
  options: JwtValidatorOptions = {},
): Promise<EntraValidator> {
  const validator = create(overrides, options);
  await validator.start();
  return validator;
}

/** Material that must never appear in an error message (AUTH-11, SEC-04). */
const SENSITIVE = [USER_OID, "ada@contoso.example", "Ada Lovelace", "pairwise-subject-for-this-app"];

/** Rejected with exactly `reason`, a message without token or claim material, and not accepted on a retry either. */
async function expectRejected(validator: EntraValidator, token: string, reason: string): Promise<void> {
  const error = await validator.validate(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect((error as InvalidTokenError).reason).toBe(reason);
  const message = (error as InvalidTokenError).message;
  for (const segment of token.split("."))
    if (segment.length >= 8) expect(message).not.toContain(segment.slice(0, 16));
  for (const value of SENSITIVE) expect(message).not.toContain(value);
  expect(message).not.toMatch(/["\\]/);
  await expect(validator.validate(token)).rejects.toBeInstanceOf(InvalidTokenError);
}

const GRAPH = "https://graph.microsoft.com";
const OTHER_APP = "eeeeeeee-5555-4555-8555-eeeeeeeeeeee";

describe("Entra ID validator: adversarial tokens (single tenant TA, v2 only)", () => {
  let validator: EntraValidator;
  beforeAll(async () => {
    const config = azureAdSchema.parse({
      instance: issuer.instance,
      tenantId: TENANT_A,
      clientId: CLIENT_ID,
    });
    validator = createEntraValidator(config, { fetch: countingFetch });
    await validator.start();
  });
  afterAll(() => validator.close());

  const now = nowSeconds;
  const cases: [name: string, reason: string, make: () => string | Promise<string>][] = [
    ["JWT-04: expired an hour ago", "expired", () => issuer.mint(issuer.entraV2({ exp: now() - 3600 }))],
    [
      "JWT-04: expired just beyond the 60 s skew (exp = now-65)",
      "expired",
      () => issuer.mint(issuer.entraV2({ exp: now() - 65 })),
    ],
    [
      "JWT-04: not yet valid (nbf = now+600)",
      "not_yet_valid",
      () => issuer.mint(issuer.entraV2({ nbf: now() + 600 })),
    ],
    [
      "JWT-04: nbf just beyond the skew (now+65)",
      "not_yet_valid",
      () => issuer.mint(issuer.entraV2({ nbf: now() + 65 })),
    ],
    [
      "JWT-04: exp missing (jose would accept it without requiredClaims)",
      "claims",
      () => issuer.mint(issuer.entraV2({ exp: undefined })),
    ],
    ["JWT-04: exp as a string", "claims", () => issuer.mint(issuer.entraV2({ exp: String(now() + 600) }))],
    ["JWT-04: nbf as a string", "claims", () => issuer.mint(issuer.entraV2({ nbf: "yesterday" }))],
    ["JWT-03: iss missing", "issuer", () => issuer.mint(issuer.entraV2({ iss: undefined }))],
    [
      "JWT-03: iss with a trailing slash",
      "issuer",
      () => issuer.mint(issuer.entraV2({ iss: `${issuer.v2Issuer(TENANT_A)}/` })),
    ],
    [
      "JWT-03: iss with different case",
      "issuer",
      () => issuer.mint(issuer.entraV2({ iss: issuer.v2Issuer(TENANT_A.toUpperCase()) })),
    ],
    [
      "JWT-03: iss of an unknown host",
      "issuer",
      () => issuer.mint(issuer.entraV2({ iss: `https://login.evil.example/${TENANT_A}/v2.0` })),
    ],
    [
      "ENTRA-01: a v2 token carrying the v1 issuer",
      "issuer",
      () => issuer.mint(issuer.entraV2({ iss: issuer.v1Issuer(TENANT_A) })),
    ],
    [
      "SEC-03: iss pointing at instance metadata",
      "issuer",
      () => issuer.mint(issuer.entraV2({ iss: "http://169.254.169.254/x" })),
    ],
    ["AUTH-09: aud is Microsoft Graph", "audience", () => issuer.mint(issuer.entraV2({ aud: GRAPH }))],
    ["AUTH-09: aud is another app's GUID", "audience", () => issuer.mint(issuer.entraV2({ aud: OTHER_APP }))],
    [
      "ENTRA-03: aud api://CID/ (trailing slash) is not listed",
      "audience",
      () => issuer.mint(issuer.entraV2({ aud: `api://${CLIENT_ID}/` })),
    ],
    [
      "AUTH-09: aud is the client ID in upper case",
      "audience",
      () => issuer.mint(issuer.entraV2({ aud: CLIENT_ID.toUpperCase() })),
    ],
    ["AUTH-09: aud missing", "audience", () => issuer.mint(issuer.entraV2({ aud: undefined }))],
    [
      "AUTH-09: aud array without this API",
      "audience",
      () => issuer.mint(issuer.entraV2({ aud: [GRAPH, OTHER_APP] })),
    ],
    ["AUTH-09: aud is a number", "audience", () => issuer.mint(issuer.entraV2({ aud: 42 }))],
    ["ENTRA-04: tid missing", "tenant", () => issuer.mint(issuer.entraV2({ tid: undefined }))],
    [
      "ENTRA-04: tid is not a GUID (contoso.com)",
      "tenant",
      () => issuer.mint(issuer.entraV2({ tid: "contoso.com", iss: issuer.v2Issuer("contoso.com") })),
    ],
    ["ENTRA-04: tid is a number", "tenant", () => issuer.mint(issuer.entraV2({ tid: 7 }))],
    [
      "ENTRA-04: a foreign tenant on a single-tenant app",
      "tenant",
      () => issuer.mint(issuer.entraV2({}, TENANT_B)),
    ],
    [
      "ENTRA-04: tid TA but iss of TB",
      "issuer",
      () => issuer.mint(issuer.entraV2({ iss: issuer.v2Issuer(TENANT_B) })),
    ],
    ["ENTRA-02: a v1 token on a v2-only app", "token_type", () => issuer.mint(issuer.entraV1())],
    ["ENTRA-02: ver missing", "token_type", () => issuer.mint(issuer.entraV2({ ver: undefined }))],
    ["ENTRA-02: ver 3.0", "token_type", () => issuer.mint(issuer.entraV2({ ver: "3.0" }))],
    [
      "ENTRA-07: an unknown kid",
      "key",
      () => issuer.mint(issuer.entraV2(), { header: { kid: "no-such-kid" } }),
    ],
    [
      "JWT-02: alg none with an empty signature",
      "algorithm",
      () => issuer.mint(issuer.entraV2(), { alg: "none" }),
    ],
    [
      "JWT-02: alg NONE (case games)",
      "algorithm",
      () => issuer.mint(issuer.entraV2(), { alg: "none", header: { alg: "NONE" } }),
    ],
    [
      "JWT-01: HS256 signed with the issuer's public key PEM (key confusion)",
      "algorithm",
      () => issuer.mint(issuer.entraV2(), { alg: "HS256", secret: issuer.publicKeyPem() }),
    ],
    [
      "JWT-01: RS384 when only RS256 is allowed",
      "algorithm",
      () => issuer.mint(issuer.entraV2(), { alg: "RS384" }),
    ],
    ["JWT-01: PS256", "algorithm", () => issuer.mint(issuer.entraV2(), { alg: "PS256" })],
    ["JWT-01: alg missing", "algorithm", () => issuer.mint(issuer.entraV2(), { header: { alg: undefined } })],
    [
      "tampered payload (scp widened, signature kept)",
      "signature",
      () =>
        tamperClaims(issuer.mint(issuer.entraV2({ scp: "tools.read" })), { scp: "tools.read tools.admin" }),
    ],
    ["tampered signature", "signature", () => flipSignature(issuer.mint(issuer.entraV2()))],
    [
      "RS256 signed by an attacker's key under the issuer's kid",
      "signature",
      async () => issuer.mint(issuer.entraV2(), { key: (await issuer.foreignKey()).privateKey }),
    ],
    [
      "RS256 with an empty signature",
      "signature",
      () => issuer.mint(issuer.entraV2()).replace(/\.[^.]+$/, "."),
    ],
    ["JWT-08: a JWE (5 segments)", "malformed", () => issuer.mintJwe(issuer.entraV2())],
    ["JWT-08: 64 KiB token", "malformed", () => issuer.mint(issuer.entraV2({ pad: "x".repeat(64 * 1024) }))],
    ["two segments", "malformed", () => issuer.mint(issuer.entraV2()).split(".").slice(0, 2).join(".")],
    ["four segments", "malformed", () => `${issuer.mint(issuer.entraV2())}.AAAA`],
    [
      "garbage base64 (b64token characters outside base64url)",
      "malformed",
      () => "eyJhbGciOiJSUzI1NiJ9.e30+/=.c2ln",
    ],
    ["header JSON garbage", "malformed", () => `${Buffer.from("{not json").toString("base64url")}.e30.c2ln`],
    [
      "header is a JSON array",
      "malformed",
      () => `${Buffer.from('["RS256"]').toString("base64url")}.e30.c2ln`,
    ],
    ["claims are not JSON", "malformed", () => issuer.mint({}, { rawClaims: "not json at all" })],
    ["claims are a JSON array", "malformed", () => issuer.mint({}, { rawClaims: "[1,2,3]" })],
    [
      "a crit header",
      "malformed",
      () => issuer.mint(issuer.entraV2(), { header: { crit: ["exp"], exp: 1 } }),
    ],
    ["kid is a number", "malformed", () => issuer.mint(issuer.entraV2(), { header: { kid: 1 } })],
    [
      "JWT-07: an ID token (aud CID, v2 iss, nonce, no scp/roles)",
      "claims",
      () => issuer.mint(issuer.entraV2({ scp: undefined, nonce: "n-0S6_WzA2Mj", aio: "x" })),
    ],
    ["ENTRA-06: neither scp nor roles", "claims", () => issuer.mint(issuer.entraV2({ scp: undefined }))],
    [
      "ENTRA-06: empty scp and empty roles",
      "claims",
      () => issuer.mint(issuer.entraV2({ scp: "", roles: [] })),
    ],
    [
      "roles is a string, not an array",
      "claims",
      () => issuer.mint(issuer.entraV2({ scp: undefined, roles: "Tools.Execute.All" })),
    ],
    [
      "scp is an array (not an Entra shape)",
      "claims",
      () => issuer.mint(issuer.entraV2({ scp: ["tools.read"] })),
    ],
    ["ENTRA-10: a user token without oid", "claims", () => issuer.mint(issuer.entraV2({ oid: undefined }))],
  ];

  it.each(cases)("%s → %s", async (_name, reason, make) => {
    await expectRejected(validator, await make(), reason);
  });

  it("JWT-06: jku, x5u and an embedded jwk are refused and never fetched", async () => {
    const attackerKey = await issuer.foreignKey();
    const jwk = await jose.exportJWK(attackerKey.publicKey);
    fetched.length = 0;
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2(), { header: { jku: `${attacker.url}/jwks` } }),
      "key",
    );
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2(), {
        header: { jku: `${attacker.url}/jwks`, kid: "attacker" },
        key: attackerKey.privateKey,
      }),
      "key",
    );
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2(), { header: { x5u: `${attacker.url}/cert.pem` } }),
      "key",
    );
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2(), { header: { jwk, kid: "attacker" }, key: attackerKey.privateKey }),
      "key",
    );
    expect(attacker.count()).toBe(0);
    expect(fetched).toEqual([]);
  });

  it("JWT-08 / SEC-03: refused tokens cost no key fetch (oversized, foreign tenant with an unknown kid, metadata-service iss)", async () => {
    issuer.resetCounts();
    await expectRejected(validator, issuer.mint(issuer.entraV2({ pad: "x".repeat(64 * 1024) })), "malformed");
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2({}, TENANT_B), { header: { kid: randomUUID() } }),
      "tenant",
    );
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2({ iss: "http://169.254.169.254/x" })),
      "issuer",
    );
    expect(issuer.count()).toBe(0);
  });

  it("JWT-08: an oversized bearer is refused before any key lookup or crypto", async () => {
    const token = issuer.mint(issuer.entraV2({ pad: "x".repeat(64 * 1024) }));
    const before = issuer.count();
    await expect(validator.validate(token)).rejects.toMatchObject({ reason: "malformed" });
    expect(issuer.count()).toBe(before);
  });
});

function tamperClaims(token: string, changes: Record<string, unknown>): string {
  const [header, claims, signature] = token.split(".");
  const decoded = JSON.parse(Buffer.from(claims!, "base64url").toString()) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify({ ...decoded, ...changes })).toString("base64url")}.${signature}`;
}

function flipSignature(token: string): string {
  const signature = Buffer.from(token.slice(token.lastIndexOf(".") + 1), "base64url");
  signature[10] = (signature[10] ?? 0) ^ 0xff;
  return `${token.slice(0, token.lastIndexOf(".") + 1)}${signature.toString("base64url")}`;
}

describe("Entra ID validator: adversarial tokens for other configurations", () => {
  it("ENTRA-04: the MSA tenant on an `organizations` app → tenant", async () => {
    const validator = await started({ tenantId: "organizations" });
    await expectRejected(validator, issuer.mint(issuer.entraV2({}, MSA_TENANT)), "tenant");
  });

  it("ENTRA-04: a tenant outside allowedTenants → tenant", async () => {
    const validator = await started({ tenantId: "organizations", allowedTenants: [TENANT_A] });
    await expectRejected(validator, issuer.mint(issuer.entraV2({}, TENANT_B)), "tenant");
  });

  it("ENTRA-04: multi-tenant, tid TA with the issuer of TB → issuer (template filled with tid, then exact)", async () => {
    const validator = await started({ tenantId: "organizations" });
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV2({ iss: issuer.v2Issuer(TENANT_B) })),
      "issuer",
    );
  });

  it("ENTRA-04: multi-tenant, an upper-case tid does not match a lower-case issuer → issuer", async () => {
    const validator = await started({ tenantId: "common" });
    await expectRejected(validator, issuer.mint(issuer.entraV2({ tid: TENANT_A.toUpperCase() })), "issuer");
  });

  it("ENTRA-05: a key whose own issuer is another tenant (MSA) → key", async () => {
    const validator = await started({ tenantId: "organizations" });
    const k2 = await issuer.addKey({ issuer: issuer.v2Issuer(MSA_TENANT) });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000); // past the cooldown, so the new kid may be fetched
    await expectRejected(validator, issuer.mint(issuer.entraV2(), { kid: k2.kid }), "key");
  });

  it("ENTRA-05: a key bound to another cloud's templated issuer → key", async () => {
    const validator = await started();
    const k3 = await issuer.addKey({ issuer: "https://login.microsoftonline.com/{tenantid}/v2.0" });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    await expectRejected(validator, issuer.mint(issuer.entraV2(), { kid: k3.kid }), "key");
  });

  it("ENTRA-11: azp outside allowedClientApps → client", async () => {
    const validator = await started({ allowedClientApps: [OTHER_APP] });
    await expectRejected(validator, issuer.mint(issuer.entraV2()), "client");
  });

  it("ENTRA-11: allowedClientApps and no azp/appid at all → client", async () => {
    const validator = await started({ allowedClientApps: [CLIENT_APP] });
    await expectRejected(validator, issuer.mint(issuer.entraV2({ azp: undefined })), "client");
  });

  it("ENTRA-01: tokenVersions [1,2], a v1 token carrying the v2 issuer → issuer", async () => {
    const validator = await started({ tokenVersions: [1, 2] });
    await expectRejected(
      validator,
      issuer.mint(issuer.entraV1({ iss: issuer.v2Issuer(TENANT_A) })),
      "issuer",
    );
  });

  it("ENTRA-03: tokenVersions [1], aud api://CID/ → audience", async () => {
    const validator = await started({ tokenVersions: [1] });
    await expectRejected(validator, issuer.mint(issuer.entraV1({ aud: `api://${CLIENT_ID}/` })), "audience");
  });

  it("ENTRA-02: tokenVersions [1], a v2 token → token_type", async () => {
    const validator = await started({ tokenVersions: [1] });
    await expectRejected(validator, issuer.mint(issuer.entraV2()), "token_type");
  });

  it("ENTRA-16: a sovereign-cloud app refuses a token from another cloud's issuer → issuer", async () => {
    const usGov = await startTokenIssuer();
    try {
      const validator = await started({ instance: usGov.instance });
      await expectRejected(validator, usGov.mint(issuer.entraV2()), "issuer");
      // Same claims, this cloud's issuer: accepted. Sovereign clouds are only a matter of `instance`.
      const { principal } = await validator.validate(
        usGov.mint(issuer.entraV2({ iss: usGov.v2Issuer(TENANT_A) })),
      );
      expect(principal.id).toBe(`${TENANT_A}:${USER_OID}`);
      expect(validator.authorizationServer).toBe(`${usGov.origin}/${TENANT_A}/v2.0`);
    } finally {
      await usGov.close();
    }
  });
});

describe("Entra ID validator: accepted tokens", () => {
  it("ENTRA-01: a v2 user token → the exact principal, frozen", async () => {
    const validator = await started();
    const claims = issuer.entraV2();
    const validated = await validator.validate(issuer.mint(claims));
    expect(validated.expiresAt).toBe(claims["exp"]);
    expect(validated.principal).toEqual({
      id: `${TENANT_A}:${USER_OID}`,
      tenantId: TENANT_A,
      objectId: USER_OID,
      clientId: CLIENT_APP,
      name: "Ada Lovelace",
      username: "ada@contoso.example",
      scopes: ["tools.read", "tools.write"],
      roles: [],
      isAppOnly: false,
      claims,
    });
    expect(Object.isFrozen(validated.principal)).toBe(true);
    expect(Object.isFrozen(validated.principal.scopes)).toBe(true);
    expect(Object.isFrozen(validated.principal.claims)).toBe(true);
  });

  it("ENTRA-08: an app-only token (idtyp app, roles, oid = sub) → isAppOnly, keyed by tid:oid", async () => {
    const validator = await started();
    const spOid = "ffffffff-6666-4666-8666-ffffffffffff";
    const { principal } = await validator.validate(
      issuer.mint(
        issuer.entraV2({
          scp: undefined,
          roles: ["Tools.Execute.All"],
          idtyp: "app",
          oid: spOid,
          sub: spOid,
          name: undefined,
          preferred_username: undefined,
        }),
      ),
    );
    expect(principal).toMatchObject({
      id: `${TENANT_A}:${spOid}`,
      objectId: spOid,
      clientId: CLIENT_APP,
      scopes: [],
      roles: ["Tools.Execute.All"],
      isAppOnly: true,
    });
    expect(principal.username).toBeUndefined();
  });

  it("an app-only token without oid → id tid:app:azp", async () => {
    const validator = await started();
    const { principal } = await validator.validate(
      issuer.mint(
        issuer.entraV2({ scp: undefined, roles: ["Tools.Execute.All"], oid: undefined, idtyp: "app" }),
      ),
    );
    expect(principal.id).toBe(`${TENANT_A}:app:${CLIENT_APP}`);
    expect(principal.objectId).toBeUndefined();
    expect(principal.isAppOnly).toBe(true);
  });

  it("ENTRA-09: a user token with roles and scp is not app-only", async () => {
    const validator = await started();
    const { principal } = await validator.validate(issuer.mint(issuer.entraV2({ roles: ["Admin"] })));
    expect(principal.isAppOnly).toBe(false);
    expect(principal.roles).toEqual(["Admin"]);
  });

  it("AUTH-09: aud as an array that contains CID → accepted", async () => {
    const validator = await started();
    await expect(
      validator.validate(issuer.mint(issuer.entraV2({ aud: [GRAPH, CLIENT_ID] }))),
    ).resolves.toBeDefined();
  });

  it("audiences: the Application ID URI (default api://CID, or configured) and configured extras are accepted", async () => {
    const byDefault = await started();
    expect(byDefault.applicationIdUri).toBe(`api://${CLIENT_ID}`);
    await expect(
      byDefault.validate(issuer.mint(issuer.entraV2({ aud: `api://${CLIENT_ID}` }))),
    ).resolves.toBeDefined();
    const configured = await started({
      applicationIdUri: "https://mcp.test/mcp",
      audiences: ["https://mcp.test/extra"],
    });
    expect(configured.applicationIdUri).toBe("https://mcp.test/mcp");
    await expect(
      configured.validate(issuer.mint(issuer.entraV2({ aud: "https://mcp.test/mcp" }))),
    ).resolves.toBeDefined();
    await expect(
      configured.validate(issuer.mint(issuer.entraV2({ aud: "https://mcp.test/extra" }))),
    ).resolves.toBeDefined();
    await expectRejected(configured, issuer.mint(issuer.entraV2({ aud: `api://${CLIENT_ID}` })), "audience");
  });

  it("JWT-04: within the skew (exp = now-30, nbf = now+30 with 60 s) → accepted", async () => {
    const validator = await started();
    await expect(
      validator.validate(issuer.mint(issuer.entraV2({ exp: nowSeconds() - 30 }))),
    ).resolves.toBeDefined();
    await expect(
      validator.validate(issuer.mint(issuer.entraV2({ nbf: nowSeconds() + 30 }))),
    ).resolves.toBeDefined();
    const strict = await started({ clockSkewSeconds: 0 });
    await expectRejected(strict, issuer.mint(issuer.entraV2({ exp: nowSeconds() - 5 })), "expired");
  });

  it("ENTRA-02: tokenVersions [1,2] accepts a v1 token (v1 issuer, appid, upn)", async () => {
    const validator = await started({ tokenVersions: [1, 2] });
    const { principal } = await validator.validate(issuer.mint(issuer.entraV1()));
    expect(principal).toMatchObject({
      id: `${TENANT_A}:${USER_OID}`,
      clientId: CLIENT_APP,
      username: "ada@contoso.example",
      scopes: ["tools.read"],
    });
    expect(issuer.count(issuer.paths.v1Discovery(TENANT_A))).toBeGreaterThan(0);
    // use_guid: v1 aud may be the client ID too.
    await expect(validator.validate(issuer.mint(issuer.entraV1({ aud: CLIENT_ID })))).resolves.toBeDefined();
    await expect(validator.validate(issuer.mint(issuer.entraV2()))).resolves.toBeDefined();
  });

  it("ENTRA-04: `organizations` accepts any work tenant, keyed by its own tid; allowedTenants admits the listed ones", async () => {
    const validator = await started({ tenantId: "organizations", allowedTenants: [TENANT_A, TENANT_B] });
    expect(validator.authorizationServer).toBe(`${issuer.instance}organizations/v2.0`);
    const { principal } = await validator.validate(issuer.mint(issuer.entraV2({}, TENANT_B)));
    expect(principal.id).toBe(`${TENANT_B}:${USER_OID}`);
    expect(principal.tenantId).toBe(TENANT_B);
  });

  it("ENTRA-05: keys with the templated issuer, the exact issuer, or no issuer all verify their tenant's tokens", async () => {
    const validator = await started({ tenantId: "common" });
    const exact = await issuer.addKey({ issuer: issuer.v2Issuer(TENANT_A) });
    const bare = await issuer.addKey({ issuer: null });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    await expect(validator.validate(issuer.mint(issuer.entraV2(), { kid: "k1" }))).resolves.toBeDefined();
    await expect(
      validator.validate(issuer.mint(issuer.entraV2(), { kid: exact.kid })),
    ).resolves.toBeDefined();
    await expect(validator.validate(issuer.mint(issuer.entraV2(), { kid: bare.kid }))).resolves.toBeDefined();
    await expectRejected(validator, issuer.mint(issuer.entraV2({}, TENANT_B), { kid: exact.kid }), "key");
  });

  it("ENTRA-11: a listed client passes allowedClientApps (case-insensitive GUID)", async () => {
    const validator = await started({ allowedClientApps: [CLIENT_APP.toUpperCase()] });
    await expect(validator.validate(issuer.mint(issuer.entraV2()))).resolves.toBeDefined();
  });

  it("ENTRA-10: the same preferred_username with different oids are different principals", async () => {
    const validator = await started();
    const first = await validator.validate(issuer.mint(issuer.entraV2()));
    const second = await validator.validate(issuer.mint(issuer.entraV2({ oid: OTHER_APP })));
    expect(first.principal.id).not.toBe(second.principal.id);
  });
});

describe("Entra ID validator: keys, outages and caching", () => {
  beforeEach(() => {
    issuer.resetCounts();
    fetched.length = 0;
  });

  it("ENTRA-07a: a rotated key → exactly one key-set refetch → accepted", async () => {
    const validator = await started();
    const keysPath = issuer.paths.v2Keys(TENANT_A);
    expect(issuer.count(keysPath)).toBe(1);
    const rotated = await issuer.addKey({ activate: true });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    const tokens = Array.from({ length: 5 }, () => issuer.mint(issuer.entraV2(), { kid: rotated.kid }));
    await Promise.all(tokens.map((token) => expect(validator.validate(token)).resolves.toBeDefined()));
    expect(issuer.count(keysPath)).toBe(2);
    expect(fetched.every((url) => url.startsWith(issuer.origin))).toBe(true);
  });

  it("ENTRA-07b: a flood of 100 random kids → at most one refetch per cooldown", async () => {
    const validator = await started();
    const keysPath = issuer.paths.v2Keys(TENANT_A);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    const flood = Array.from({ length: 100 }, () =>
      issuer.mint(issuer.entraV2(), { header: { kid: randomUUID() } }),
    );
    const reasons = await Promise.all(
      flood.map((token) =>
        validator.validate(token).catch((error: unknown) => (error as InvalidTokenError).reason),
      ),
    );
    expect(reasons).toEqual(Array.from({ length: 100 }, () => "key"));
    for (const token of flood.slice(0, 50))
      await expect(validator.validate(token)).rejects.toMatchObject({ reason: "key" });
    expect(issuer.count(keysPath)).toBe(2); // start + one refresh
    vi.setSystemTime(Date.now() + 31_000);
    await Promise.all(flood.slice(0, 20).map((token) => validator.validate(token).catch(() => undefined)));
    expect(issuer.count(keysPath)).toBe(3); // the next cooldown allows exactly one more
  });

  it("ENTRA-07c: key set down after start → cached keys keep validating (last known good)", async () => {
    const validator = await started();
    issuer.down();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    // An unknown kid forces a refresh, which fails: the known keys survive it.
    await expectRejected(validator, issuer.mint(issuer.entraV2(), { header: { kid: "unknown" } }), "key");
    expect(issuer.count(issuer.paths.v2Keys(TENANT_A))).toBe(2);
    await expect(
      validator.validate(issuer.mint(issuer.entraV2({ jti: randomUUID() }))),
    ).resolves.toBeDefined();
    expect(validator.ready()).toBe(true);
  });

  it("identity provider down at start → IdentityUnavailableError, ready() false; recovery → ready() true", async () => {
    issuer.down();
    const validator = create();
    await expect(validator.start()).rejects.toBeInstanceOf(IdentityUnavailableError);
    expect(validator.ready()).toBe(false);
    const token = issuer.mint(issuer.entraV2());
    const error = await validator.validate(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdentityUnavailableError);
    expect(error).not.toBeInstanceOf(InvalidTokenError);
    issuer.up();
    // Within the cooldown nothing is refetched; after it, the next request loads metadata and keys.
    await expect(validator.validate(token)).rejects.toBeInstanceOf(IdentityUnavailableError);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    await expect(validator.validate(token)).resolves.toBeDefined();
    expect(validator.ready()).toBe(true);
  });

  it("keys down at start (discovery up) → not ready; start() again after recovery → ready", async () => {
    const keysPath = issuer.paths.v2Keys(TENANT_A);
    issuer.override(keysPath, { status: 500, body: "{}" });
    const validator = create();
    await expect(validator.start()).rejects.toBeInstanceOf(IdentityUnavailableError);
    expect(validator.ready()).toBe(false);
    issuer.override(keysPath, undefined);
    await validator.start();
    expect(validator.ready()).toBe(true);
  });

  it("recovery happens in the background too (retry timer), without traffic", async () => {
    issuer.down();
    const validator = create({}, { keys: { cooldownMs: 20 } });
    await expect(validator.start()).rejects.toBeInstanceOf(IdentityUnavailableError);
    issuer.up();
    for (let i = 0; i < 100 && !validator.ready(); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(validator.ready()).toBe(true);
  });

  it("close() stops background retries", async () => {
    issuer.down();
    const validator = create({}, { keys: { cooldownMs: 20 } });
    await expect(validator.start()).rejects.toBeInstanceOf(IdentityUnavailableError);
    validator.close();
    const after = issuer.count();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(issuer.count()).toBe(after);
  });

  it("a repeated token version in the configuration does not keep the validator unready", async () => {
    const validator = await started({ tokenVersions: [2, 2] });
    expect(validator.ready()).toBe(true);
  });

  it("a token seen before is served from the cache: no key import, no signature verification", async () => {
    const validator = await started();
    const token = issuer.mint(issuer.entraV2());
    const first = await validator.validate(token);
    const verifies = vi.mocked(jose.jwtVerify).mock.calls.length;
    const imports = vi.mocked(jose.importJWK).mock.calls.length;
    const second = await validator.validate(token);
    expect(second).toBe(first);
    expect(vi.mocked(jose.jwtVerify).mock.calls.length).toBe(verifies);
    expect(vi.mocked(jose.importJWK).mock.calls.length).toBe(imports);
    // A different token verifies, but reuses the imported key: importJWK runs once per key.
    await validator.validate(issuer.mint(issuer.entraV2({ jti: randomUUID() })));
    expect(vi.mocked(jose.jwtVerify).mock.calls.length).toBe(verifies + 1);
    expect(vi.mocked(jose.importJWK).mock.calls.length).toBe(imports);
  });

  it("a cached token is never served past its exp", async () => {
    const validator = await started({ clockSkewSeconds: 0 });
    const token = issuer.mint(issuer.entraV2({ exp: nowSeconds() + 5 }));
    await expect(validator.validate(token)).resolves.toBeDefined();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 6_000);
    await expectRejected(validator, token, "expired");
  });
});
