import { verify } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntraValidator, type EntraValidator } from "../../src/auth/entra.js";
import { inspectJwt } from "../../src/auth/jwt-validator.js";
import { createOidcValidator, type OidcValidator } from "../../src/auth/oidc.js";
import { InvalidTokenError } from "../../src/auth/token-validator.js";
import { AUTH_FAILURE_REASONS } from "../../src/telemetry/semconv.js";
import { azureAdSchema, oidcSchema } from "../../src/config/identity-schema.js";
import {
  CLIENT_APP,
  CLIENT_ID,
  MSA_TENANT,
  TENANT_A,
  TENANT_B,
  USER_OID,
  nowSeconds,
  startTokenIssuer,
  type IssuerKey,
  type TokenIssuer,
} from "../fixtures/token-issuer.js";
import { inspectAgreesWithReference, referenceShape } from "./properties.js";
import { FAMILY_MINIMUM, FUZZ_TIMEOUT, Tally, holds, scaled } from "./support.js";

/*
 * Fuzzing JWT access-token validation: mutations of valid RS256 tokens from the real loopback
 * issuer (header members, claims, segment corruption, signature bit flips, foreign keys, HMAC key
 * confusion, `none`, oversize) go through the real Entra and OIDC validators (keys fetched over
 * loopback), with the token cache on and off. Their verdict must equal a REFERENCE MODEL written
 * from /work/shared/reference/auth-requirements.md (JWT-01..09, ENTRA-01..06): never accepted when
 * the reference rejects, and accepted when it accepts. Rejections are InvalidTokenError with a
 * documented reason, never anything else.
 */

const tally = new Tally();
const ALGORITHMS = ["RS256"];
/** `InvalidTokenError.reason` values the validators document (src/auth/jwt-validator.ts, entra.ts, oidc.ts). */
const REASONS = [
  "malformed",
  "algorithm",
  "signature",
  "expired",
  "not_yet_valid",
  "issuer",
  "audience",
  "key",
  "claims",
  "tenant",
  "token_type",
];
const SKEW = 60;
const MCP = "https://mcp.test/mcp";

let issuer: TokenIssuer;
let attacker: IssuerKey;
/** Token cache effectively off: one entry, and every fuzzed token is new. */
let entraUncached: EntraValidator;
/** Token cache on (default size): each token is validated twice, the second time from the cache when it passed. */
let entraCached: EntraValidator;
let oidcCached: OidcValidator;

beforeAll(async () => {
  issuer = await startTokenIssuer();
  attacker = await issuer.foreignKey();
  const azureAd = azureAdSchema.parse({ instance: issuer.instance, tenantId: TENANT_A, clientId: CLIENT_ID });
  entraUncached = createEntraValidator(azureAd, { tokenCache: { maxEntries: 1 } });
  entraCached = createEntraValidator(azureAd);
  oidcCached = createOidcValidator(oidcSchema.parse({ issuer: issuer.oidcIssuer }), { audiences: [MCP] });
  await Promise.all([entraUncached.start(), entraCached.start(), oidcCached.start()]);
});
afterAll(async () => {
  for (const validator of [entraUncached, entraCached, oidcCached]) validator.close();
  await issuer.close();
});

// --- The reference model ---------------------------------------------------------------------------

const decode = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as Record<string, unknown>;

/** JWT-01/02/06/08 and the signature: the shape rules, then RS256 by a key the issuer publishes. */
function referenceSignature(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  if (!referenceShape(token, ALGORITHMS)) return undefined;
  const [encodedHeader = "", encodedClaims = "", signature = ""] = token.split(".");
  const header = decode(encodedHeader);
  const published = issuer.published();
  const key =
    header["kid"] === undefined
      ? published.length === 1
        ? published[0]
        : undefined
      : published.find((candidate) => candidate.kid === header["kid"]);
  if (key === undefined) return undefined;
  const input = Buffer.from(`${encodedHeader}.${encodedClaims}`);
  if (!verify("sha256", input, key.publicKey, Buffer.from(signature, "base64url"))) return undefined;
  return { header, claims: decode(encodedClaims) };
}

const isString = (value: unknown): value is string => typeof value === "string";
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

/** RFC 7519 §4.1.4/4.1.5 with leeway, JWT-04: `exp` required and in the future; `nbf`, `iat` numbers when present. */
function referenceLifetime(claims: Record<string, unknown>, now: number): boolean {
  const { exp, nbf, iat } = claims;
  if (typeof exp !== "number" || exp <= now - SKEW) return false;
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now + SKEW)) return false;
  return iat === undefined || typeof iat === "number";
}

/** JWT-09 / ENTRA-01/03: `aud` (a string or an array of strings) holds one accepted value exactly. */
function referenceAudience(aud: unknown, accepted: readonly string[]): boolean {
  if (isString(aud)) return accepted.includes(aud);
  return isStringArray(aud) && aud.some((value) => accepted.includes(value));
}

/** An Entra v2 single-tenant registration (TENANT_A, CLIENT_ID, tokenVersions [2]). */
function referenceEntra(token: string, now: number): boolean {
  const verified = referenceSignature(token);
  if (verified === undefined) return false;
  const { claims } = verified;
  // ENTRA-02: only the configured token version.
  if (claims["ver"] !== "2.0") return false;
  // ENTRA-04: tid a GUID of this tenant; ENTRA-04/05 + JWT-03: iss exactly the v2 issuer of that tid
  // (the signing key's templated issuer, with the token's tid substituted, must match it too).
  if (claims["tid"] !== TENANT_A) return false;
  if (claims["iss"] !== issuer.v2Issuer(TENANT_A)) return false;
  if (!referenceAudience(claims["aud"], [CLIENT_ID, `api://${CLIENT_ID}`])) return false;
  if (!referenceLifetime(claims, now)) return false;
  // ENTRA-06: scopes (a space-separated string) or roles (an array of strings), at least one.
  const { scp, roles, oid, azp, sub, name, preferred_username: username } = claims;
  if (scp !== undefined && !isString(scp)) return false;
  if (roles !== undefined && !isStringArray(roles)) return false;
  const scopes = isString(scp) ? scp.split(" ").filter(Boolean) : [];
  const roleList = isStringArray(roles) ? roles.filter(Boolean) : [];
  if (scopes.length === 0 && roleList.length === 0) return false;
  if ([oid, azp, name, username].some((value) => value !== undefined && !isString(value))) return false;
  // ENTRA-10: the principal is tid + oid; without an oid only an app-only token (no scopes) with a client id.
  if (isString(oid) && oid !== "") return true;
  const appOnly = scopes.length === 0 && (oid === undefined || oid === sub);
  return appOnly && isString(azp) && azp !== "";
}

/** A generic RFC 9068 issuer (requireAccessTokenType on, audience the MCP URL). */
function referenceOidc(token: string, now: number): boolean {
  const verified = referenceSignature(token);
  if (verified === undefined) return false;
  const { header, claims } = verified;
  // JWT-05: typ at+jwt or application/at+jwt, case-insensitively (RFC 7515 §4.1.9 media types).
  const typ = header["typ"];
  if (!isString(typ) || !["at+jwt", "application/at+jwt"].includes(typ.toLowerCase())) return false;
  if (claims["iss"] !== issuer.oidcIssuer) return false;
  if (!referenceAudience(claims["aud"], [MCP])) return false;
  if (!referenceLifetime(claims, now)) return false;
  const { sub, scope, scp, roles, client_id: clientId, azp, name, preferred_username: username } = claims;
  // RFC 9068 §2.2: sub is required.
  if (!isString(sub) || sub === "") return false;
  if (scope !== undefined && !isString(scope)) return false;
  if (scope === undefined && scp !== undefined && !isString(scp) && !isStringArray(scp)) return false;
  if (roles !== undefined && !isString(roles) && !isStringArray(roles)) return false;
  return [clientId, azp, name, username].every((value) => value === undefined || isString(value));
}

// --- Token mutations -------------------------------------------------------------------------------

const OMIT = Symbol("omit");
type Member = unknown;
const member = (...values: unknown[]): fc.Arbitrary<unknown> => fc.constantFrom<unknown>(...values, OMIT);

/** Claim changes relative to a valid token; time offsets stay 30 s or more away from every boundary. */
const entraClaimChanges: Record<string, fc.Arbitrary<unknown>> = {
  iss: member(
    "v2(TB)",
    "v2(TA)/",
    "V2(TA)",
    "v1(TA)",
    "https://login.microsoftonline.com/" + TENANT_A + "/v2.0",
    5,
  ),
  aud: member(
    `api://${CLIENT_ID}`,
    `api://${CLIENT_ID}/`,
    CLIENT_ID.toUpperCase(),
    MCP,
    [CLIENT_ID, "x"],
    ["x"],
    [],
    7,
  ),
  exp: member(600, -30, -200, -100_000, "soon", 1e12),
  nbf: member(-10, 30, 600, "later"),
  iat: member(-10, 600, "x"),
  tid: member(TENANT_B, TENANT_A.toUpperCase(), MSA_TENANT, "contoso.com", 5),
  ver: member("1.0", 2, "2", ""),
  scp: member("", " ", "tools.read", ["tools.read"], 3),
  roles: member(["Tools.All"], [], "Tools.All", [1], ["Tools.All", 2]),
  oid: member("", 5, USER_OID.toUpperCase(), "pairwise-subject-for-this-app"),
  azp: member(5, "", CLIENT_APP.toUpperCase()),
  name: member(5, null),
};

/** Header changes: algorithms (JWT-01/02), key ids, typ (JWT-05), crit, sender-chosen keys (JWT-06). */
const headerChanges: Record<string, fc.Arbitrary<unknown>> = {
  alg: fc.constantFrom<Member>("RS384", "PS256", "HS256", "none", "rs256", "", 256, OMIT),
  kid: fc.constantFrom<Member>("unknown-kid", "", 5, "x".repeat(300), OMIT, "attacker"),
  typ: fc.constantFrom<Member>("at+jwt", "AT+JWT", "application/at+jwt", "jwt", 5, OMIT),
  crit: fc.constantFrom<Member>(["exp"], []),
  jku: fc.constant<Member>("https://attacker.test/jwks"),
  x5u: fc.constant<Member>("https://attacker.test/cert.pem"),
  jwk: fc.constant<Member>({ kty: "RSA", e: "AQAB", n: "AQAB" }),
  x5c: fc.constant<Member>(["MIIB"]),
};

const SIGNINGS = ["issuer", "attacker", "hs256-confusion", "none"] as const;
const CORRUPTIONS = [
  "none",
  "flip-signature-bit",
  "flip-payload-bit",
  "truncate-signature",
  "empty-signature",
  "swap-payload",
  "fourth-segment",
  "jwe-shape",
  "pad",
  "oversize",
  "std-base64",
] as const;

/** Mostly the issuer's key and an intact token; otherwise any other signer or corruption. */
const signing = fc.oneof(
  { weight: 3, arbitrary: fc.constant(SIGNINGS[0]) },
  { weight: 1, arbitrary: fc.constantFrom(...SIGNINGS) },
);
const corruption = fc.oneof(
  { weight: 3, arbitrary: fc.constant(CORRUPTIONS[0]) },
  { weight: 1, arbitrary: fc.constantFrom(...CORRUPTIONS) },
);

/** No change, one member changed (boundaries on both sides), or any number at once. */
function changes(members: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const one = Object.entries(members).map(([name, value]) => value.map((picked) => ({ [name]: picked })));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 3, arbitrary: fc.oneof(...one) },
    { weight: 2, arbitrary: fc.record(members, { requiredKeys: [] }) },
  );
}

const mutation = fc.record({
  claims: changes(entraClaimChanges),
  header: changes(headerChanges),
  signing,
  corruption,
  bit: fc.nat(),
});

function resolve(value: unknown, now: number, timeKeys: boolean): unknown {
  if (typeof value === "number" && timeKeys && Math.abs(value) < 1e9) return now + value;
  if (value === "v2(TA)/") return `${issuer.v2Issuer(TENANT_A)}/`;
  if (value === "V2(TA)") return issuer.v2Issuer(TENANT_A).toUpperCase();
  if (value === "v2(TB)") return issuer.v2Issuer(TENANT_B);
  if (value === "v1(TA)") return issuer.v1Issuer(TENANT_A);
  return value;
}

function apply(
  base: Record<string, unknown>,
  changes: Record<string, unknown>,
  now: number,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(changes)) {
    if (value === OMIT) Reflect.deleteProperty(result, name);
    else result[name] = resolve(value, now, ["exp", "nbf", "iat"].includes(name));
  }
  return result;
}

function flipBit(segment: string, bit: number): string {
  const bytes = Buffer.from(segment, "base64url");
  if (bytes.length === 0) return "AA";
  const index = bit % (bytes.length * 8);
  bytes[index >> 3] = (bytes[index >> 3] ?? 0) ^ (1 << (index & 7));
  return bytes.toString("base64url");
}

interface Mutation {
  claims: Record<string, unknown>;
  header: Record<string, unknown>;
  signing: (typeof SIGNINGS)[number];
  corruption: (typeof CORRUPTIONS)[number];
  bit: number;
}

/** Builds the mutated token: claims and header changed, signed by someone, then maybe corrupted. */
function build(base: Record<string, unknown>, draw: Mutation, now: number): string {
  const claims = apply(base, draw.claims, now);
  const header: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(draw.header)) header[name] = value === OMIT ? undefined : value;
  let token: string;
  switch (draw.signing) {
    case "attacker":
      token = issuer.mint(claims, { key: attacker.privateKey, header });
      break;
    case "hs256-confusion":
      token = issuer.mint(claims, {
        alg: "HS256",
        secret: issuer.publicKeyPem(),
        header: { ...header, alg: "HS256" },
      });
      break;
    case "none":
      token = issuer.mint(claims, { alg: "none", header: { ...header, alg: "none" } });
      break;
    default:
      token = issuer.mint(claims, { header });
  }
  const [h = "", p = "", s = ""] = token.split(".");
  switch (draw.corruption) {
    case "flip-signature-bit":
      return `${h}.${p}.${flipBit(s, draw.bit)}`;
    case "flip-payload-bit":
      return `${h}.${flipBit(p, draw.bit)}.${s}`;
    case "truncate-signature":
      return `${h}.${p}.${s.slice(0, draw.bit % Math.max(1, s.length))}`;
    case "empty-signature":
      return `${h}.${p}.`;
    case "swap-payload":
      return `${h}.${Buffer.from(JSON.stringify({ ...claims, scp: "admin" })).toString("base64url")}.${s}`;
    case "fourth-segment":
      return `${token}.${s}`;
    case "jwe-shape":
      return `${h}.${p}.${s}.a.b`;
    case "pad":
      return `${h}.${p}.${s}==`;
    case "oversize":
      return issuer.mint({ ...claims, pad: "x".repeat(16 * 1024) }, { header });
    case "std-base64":
      return `${h}.${p}.${Buffer.from(s, "base64url").toString("base64")}`;
    default:
      return token;
  }
}

/** What a validator said: accepted, or the reason of its InvalidTokenError (anything else fails the property). */
async function verdict(validate: (token: string) => Promise<unknown>, token: string): Promise<string> {
  try {
    await validate(token);
    return "accepted";
  } catch (error) {
    if (!(error instanceof InvalidTokenError))
      throw new Error(`not an InvalidTokenError: ${String(error)}`, { cause: error });
    if (!REASONS.includes(error.reason))
      throw new Error(`undocumented reason ${error.reason}`, { cause: error });
    return error.reason;
  }
}

describe("fuzz: JWT validation against the reference model", () => {
  it("the validator reasons it accepts are a subset of the documented paved.auth.reason values", () => {
    // Written out above so the fuzz does not trust src; tied here so the two lists cannot drift.
    expect(REASONS.filter((reason) => !AUTH_FAILURE_REASONS.has(reason))).toEqual([]);
  });

  it(
    "inspectJwt (shape checks before crypto) agrees with the reference",
    async () => {
      await holds(tally, inspectAgreesWithReference(inspectJwt), 6_500);
    },
    FUZZ_TIMEOUT,
  );

  it(
    "Entra validator, cache off and on: never accepts what the reference rejects, accepts what it accepts",
    async () => {
      let accepted = 0;
      await holds(
        tally,
        fc.asyncProperty(mutation, async (draw) => {
          const now = nowSeconds();
          const token = build(issuer.entraV2(), draw, now);
          const expected = referenceEntra(token, now);
          const uncached = await verdict((value) => entraUncached.validate(value), token);
          const first = await verdict((value) => entraCached.validate(value), token);
          const again = await verdict((value) => entraCached.validate(value), token);
          expect(uncached === "accepted", `uncached verdict ${uncached}`).toBe(expected);
          expect(first).toBe(uncached);
          expect(again).toBe(uncached);
          if (expected) accepted++;
        }),
        2_000,
      );
      // The mutations must leave enough valid tokens for "accepted when the reference accepts" to mean something.
      expect(accepted).toBeGreaterThan(scaled(2_000) / 20);
    },
    FUZZ_TIMEOUT,
  );

  it(
    "OIDC validator (RFC 9068 profile), cache on: agrees with the reference",
    async () => {
      const oidcChanges: Record<string, fc.Arbitrary<unknown>> = {
        iss: fc.constantFrom<Member>("oidc/", "OIDC", "v2(TA)", OMIT),
        aud: fc.constantFrom<Member>(`${MCP}/`, "https://mcp.test", [MCP, "x"], ["x"], 5, OMIT),
        exp: fc.constantFrom<Member>(-30, -200, "soon", OMIT),
        nbf: fc.constantFrom<Member>(30, 600, "x"),
        sub: fc.constantFrom<Member>("", 5, OMIT),
        scope: fc.constantFrom<Member>(5, ["a"], "", OMIT),
        scp: fc.constantFrom<Member>("a b", ["a"], [1], 5),
        roles: fc.constantFrom<Member>(["r"], "r", [1]),
        client_id: fc.constantFrom<Member>(5, "user-42"),
      };
      const oidcMutation = fc.record({
        claims: changes(oidcChanges),
        header: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom({ typ: "at+jwt" }, { typ: "application/AT+JWT" }) },
          { weight: 1, arbitrary: changes(headerChanges) },
        ),
        signing,
        corruption,
        bit: fc.nat(),
      });
      let accepted = 0;
      await holds(
        tally,
        fc.asyncProperty(oidcMutation, async (draw) => {
          const now = nowSeconds();
          const claims = Object.fromEntries(
            Object.entries(draw.claims).map(([name, value]) => [
              name,
              value === "oidc/"
                ? `${issuer.oidcIssuer}/`
                : value === "OIDC"
                  ? issuer.oidcIssuer.toUpperCase()
                  : value,
            ]),
          );
          const token = build(issuer.oidcClaims(MCP), { ...draw, claims }, now);
          const expected = referenceOidc(token, now);
          const first = await verdict((value) => oidcCached.validate(value), token);
          const again = await verdict((value) => oidcCached.validate(value), token);
          expect(first === "accepted", `verdict ${first}`).toBe(expected);
          expect(again).toBe(first);
          if (expected) accepted++;
        }),
        1_500,
      );
      expect(accepted).toBeGreaterThan(scaled(1_500) / 20);
    },
    FUZZ_TIMEOUT,
  );

  it(`ran at least ${FAMILY_MINIMUM} cases`, () => {
    expect(tally.cases).toBeGreaterThanOrEqual(scaled(FAMILY_MINIMUM));
  });
});
