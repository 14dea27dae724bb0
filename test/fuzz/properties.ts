import fc from "fast-check";
import type { BearerResult } from "../../src/auth/bearer.js";
import type { UnverifiedJwt } from "../../src/auth/jwt-validator.js";
import type { EdgeGuardOptions } from "../../src/http/edge-guard.js";
import type { InboundRequest, Reply } from "../../src/http/exchange.js";
import { anyText, assertRejectionBody, fakeRequest, nastyChar } from "./support.js";

/*
 * Properties shared by the fuzz suites and by `properties-can-fail.test.ts`, which runs the very same
 * properties against deliberately broken parsers (test/fixtures/broken-parsers.ts) to prove that they
 * can fail. Each one compares a parser with a REFERENCE predicate written from the standard (RFC 6750,
 * RFC 7230, RFC 7515/8725) and the documented rules, never from the implementation.
 */

// --- Authorization: Bearer (RFC 6750 §2.1, AUTH-05/06) ---------------------------------------------

export const MAX_TOKEN_LENGTH = 16 * 1024;
const B64TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";

export type BearerVerdict =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "missing" | "invalid_request" | "invalid_token" };

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
function isB64token(token: string): boolean {
  const firstPad = token.indexOf("=");
  const body = firstPad < 0 ? token : token.slice(0, firstPad);
  const padding = firstPad < 0 ? "" : token.slice(firstPad);
  return (
    body.length > 0 &&
    Array.from(body).every((char) => B64TOKEN_ALPHABET.includes(char)) &&
    Array.from(padding).every((char) => char === "=")
  );
}

/**
 * The reference: `credentials = "Bearer" 1*SP b64token` (scheme case-insensitive, RFC 7235 §2.1).
 * No header → no credentials, even with a query token (never read, AUTH-06); repeated headers or a
 * query token next to the header → invalid_request (AUTH-05); empty → invalid_request; too long or
 * not a b64token → invalid_token; another scheme → no credentials.
 */
export function referenceBearer(values: readonly string[], search: string): BearerVerdict {
  if (values.length === 0) return { kind: "missing" };
  if (values.length > 1) return { kind: "invalid_request" };
  if (new URLSearchParams(search).has("access_token")) return { kind: "invalid_request" };
  const match = /^bearer(?: +([\s\S]*))?$/i.exec(values[0] ?? "");
  if (match === null) return { kind: "missing" };
  const token = match[1] ?? "";
  if (token === "") return { kind: "invalid_request" };
  if (token.length > MAX_TOKEN_LENGTH || !isB64token(token)) return { kind: "invalid_token" };
  return { kind: "token", token };
}

const b64Char = fc.constantFrom(...Array.from(B64TOKEN_ALPHABET));
const tokenish = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.string({ unit: b64Char, minLength: 1, maxLength: 60 }), fc.constantFrom("", "=", "==", "==="))
      .map(([body, padding]) => body + padding),
  },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.oneof({ weight: 10, arbitrary: b64Char }, nastyChar, fc.constant("=")),
      maxLength: 60,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_TOKEN_LENGTH - 2, max: MAX_TOKEN_LENGTH + 2 }).map((n) => "a".repeat(n)),
  },
  { weight: 1, arbitrary: anyText() },
);
const schemeName = fc.constantFrom(
  "Bearer",
  "bearer",
  "BEARER",
  "bEaReR",
  "Basic",
  "DPoP",
  "Bearer2",
  "Bear",
  "",
  "Bearer,",
  "Béarer",
);
const separator = fc.constantFrom("", " ", " ", "  ", "\t", " \t", "    ");
const trailer = fc.constantFrom("", "", "", "", " ", "  ", "\t", "=", ",", " x", ", Bearer y", "\n");

/** `Authorization` header values: mostly bearer-shaped, with every edge RFC 6750 has. */
export const authorizationValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(schemeName, separator, tokenish, trailer)
      .map(([scheme, gap, token, tail]) => scheme + gap + token + tail),
  },
  { weight: 1, arbitrary: anyText(80) },
);

export const bearerInput = fc.record({
  values: fc.oneof(
    { weight: 1, arbitrary: fc.constant<string[]>([]) },
    { weight: 12, arbitrary: authorizationValue.map((value) => [value]) },
    { weight: 1, arbitrary: fc.array(authorizationValue, { minLength: 2, maxLength: 3 }) },
  ),
  search: fc.constantFrom(
    "",
    "",
    "",
    "",
    "?access_token=abc",
    "?a=1",
    "?access_token",
    "?x=1&access_token=",
    "?ACCESS_TOKEN=abc",
    "?access%5Ftoken=1",
  ),
});

/** Descriptions the extractor may send (docs/pipeline.md stage 5); anything else is a new contract. */
export const BEARER_DESCRIPTIONS = [
  "More than one Authorization header",
  "More than one method of sending the access token",
  "The Bearer credentials are empty",
  "The access token is too large",
  "The access token is malformed",
];

/** The extractor agrees with the RFC 6750 reference on every input, token bytes included. */
export function bearerAgreesWithReference(
  extract: (request: InboundRequest) => BearerResult,
): fc.IProperty<[{ values: string[]; search: string }]> {
  return fc.property(bearerInput, ({ values, search }) => {
    const actual = extract(fakeRequest({ headers: values.map((value) => ["authorization", value]), search }));
    const expected = referenceBearer(values, search);
    if (actual.kind !== expected.kind)
      throw new Error(`extractor says ${actual.kind}, the reference says ${expected.kind}`);
    if (actual.kind === "token" && expected.kind === "token" && actual.token !== expected.token)
      throw new Error("the extracted token differs from the credentials");
    if (
      (actual.kind === "invalid_request" || actual.kind === "invalid_token") &&
      !BEARER_DESCRIPTIONS.includes(actual.description)
    )
      throw new Error(`undocumented description ${actual.description}`);
  });
}

// --- WWW-Authenticate: Bearer (RFC 6750 §3, RFC 7235 §4.1, RFC 9728 §5.1) ---------------------------

export const CHALLENGE_ERRORS = ["invalid_request", "invalid_token", "insufficient_scope"];
const CHALLENGE_PARAMS = ["resource_metadata", "scope", "error", "error_description"];

/**
 * Parses a challenge with the RFC 6750 §3 grammar: `Bearer` then `name="value"` pairs joined by
 * `, `, each value only %x20-21 / %x23-5B / %x5D-7E, each parameter at most once and one of the
 * four Paved sends, `error` one of the three RFC 6750 codes. Returns the parameters or a problem.
 */
export function parseChallenge(value: string): Map<string, string> | string {
  if (!value.startsWith("Bearer")) return "does not start with the Bearer scheme";
  const params = new Map<string, string>();
  let rest = value.slice("Bearer".length);
  if (rest === "") return params;
  if (!rest.startsWith(" ")) return "no space after the scheme";
  rest = rest.slice(1);
  for (;;) {
    const match = /^([a-z_]+)="([\x20\x21\x23-\x5B\x5D-\x7E]*)"/.exec(rest);
    if (match === null) return `a malformed auth-param at ${JSON.stringify(rest.slice(0, 40))}`;
    const [whole, name = "", paramValue = ""] = match;
    if (!CHALLENGE_PARAMS.includes(name)) return `an unknown parameter ${name}`;
    if (params.has(name)) return `a repeated parameter ${name}`;
    params.set(name, paramValue);
    rest = rest.slice(whole.length);
    if (rest === "") break;
    if (!rest.startsWith(", ")) return "parameters not separated by a comma";
    rest = rest.slice(2);
  }
  const error = params.get("error");
  if (error !== undefined && !CHALLENGE_ERRORS.includes(error)) return `an undocumented error ${error}`;
  return params;
}

// --- Host and Origin (DNS rebinding; RFC 7230 §5.4, RFC 6454 §7, docs/pipeline.md stage 2) ---------

/** Host names the fuzzed allow-lists are drawn from (one with a `k`: U+212A lower-cases to it). */
export const HOST_POOL = ["mcp.contoso.com", "localhost", "127.0.0.1", "[::1]", "kestrel.example"];
export const ORIGIN_POOL = [
  "https://mcp.contoso.com",
  "http://localhost:3000",
  "https://kestrel.example",
  "https://api.example.org:8443",
];

const asciiLower = (value: string): string => value.replace(/[A-Z]/g, (char) => char.toLowerCase());
/** RFC 7230 §3.2.3: optional whitespace is SP and HTAB only. */
const withoutOws = (value: string): string => value.replace(/^[\t ]+|[\t ]+$/g, "");

/** RFC 7230 §5.4 `Host = uri-host [ ":" port ]`, host names compared ASCII case-insensitively. */
export function referenceHostName(host: string): string | undefined {
  const value = asciiLower(withoutOws(host));
  const match = /^(\[[0-9a-f:.]*\]|[a-z0-9.-]+)(?::[0-9]{1,5})?$/.exec(value);
  return match?.[1];
}

/**
 * A present Origin must be one of the allowed origins (ASCII case-insensitive: RFC 6454 serialises
 * scheme and host in lower case), or, when loopback origins are allowed, `http(s)://` + a loopback
 * name (`localhost`, `127.x.y.z`, `[::1]`) + an optional port, and nothing else.
 */
export function referenceOriginAllowed(origin: string, options: EdgeGuardOptions): boolean {
  const value = asciiLower(origin);
  if (options.allowedOrigins.has(value)) return true;
  return (
    options.allowLoopbackOrigins &&
    /^https?:\/\/(?:localhost|\[::1\]|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?::[0-9]{1,5})?$/.test(value)
  );
}

export type EdgeVerdict = "pass" | "host_not_allowed" | "origin_not_allowed";

export function referenceEdge(
  host: string | undefined,
  origin: string | undefined,
  options: EdgeGuardOptions,
): EdgeVerdict {
  if (options.allowedHosts !== undefined) {
    const name = host === undefined ? undefined : referenceHostName(host);
    if (name === undefined || !options.allowedHosts.has(name)) return "host_not_allowed";
  }
  if (origin !== undefined && !referenceOriginAllowed(origin, options)) return "origin_not_allowed";
  return "pass";
}

const hostMutation = fc.tuple(
  fc.constantFrom("", "", "", "", "evil", "evil.", "x-", ".", "a", " ", "\t", "\u00a0", "user@"),
  fc.oneof(
    fc.constantFrom(...HOST_POOL),
    fc.constantFrom(
      "mcp.\u212Aontoso.com",
      "\u212Aestrel.example",
      "127.0.0.1.nip.io",
      "[::ffff:127.0.0.1]",
      "0x7f.1",
      "LOCALHOST",
    ),
  ),
  fc.constantFrom(
    "",
    "",
    "",
    "",
    ":8080",
    ":443",
    ":65535",
    ":123456",
    ":",
    ":-1",
    ":8o",
    ".",
    ".evil.com",
    "x",
    " ",
    "\t",
    "\u00a0",
    "/",
    "@evil.com",
  ),
);

/** `Host` header values: allow-listed names, near misses (prefixes, suffixes, case, ports), junk. */
export const hostValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.mixedCase(hostMutation.map(([a, b, c]) => a + b + c)) },
  { weight: 1, arbitrary: anyText(30) },
);

/** `Origin` header values: allowed origins and loopback origins, near misses, `null`, junk. */
export const originValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.mixedCase(fc.constantFrom(...ORIGIN_POOL)) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom("http://", "https://", "HTTPS://", "ftp://", "", "http:/", "https:///", "//"),
        hostMutation.map(([a, b, c]) => a + b + c),
        fc.constantFrom("", "", "", "/", "/x", "?q", "#f", ":3000", ":3000/"),
      )
      .map(([scheme, host, tail]) => scheme + host + tail),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("null", "*", "", "https://mcp.contoso.com.", "https://mcp.contoso.com:443"),
  },
  { weight: 1, arbitrary: anyText(30) },
);

export const edgeOptions: fc.Arbitrary<EdgeGuardOptions> = fc
  .record({
    hosts: fc.option(fc.subarray(HOST_POOL, { minLength: 1 }), { nil: undefined }),
    origins: fc.subarray(ORIGIN_POOL),
    loopback: fc.boolean(),
  })
  .map(({ hosts, origins, loopback }) => ({
    allowedHosts: hosts === undefined ? undefined : new Set(hosts),
    allowedOrigins: new Set(origins),
    allowLoopbackOrigins: loopback,
    stateful: false,
    maxBodyBytes: 1_000_000,
  }));

export const edgeInput = fc.record({
  options: edgeOptions,
  host: fc.option(hostValue, { nil: undefined, freq: 10 }),
  origin: fc.option(originValue, { nil: undefined, freq: 3 }),
});

const EDGE_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "application/json"],
  ["accept", "application/json, text/event-stream"],
];

/** A well-formed POST that only its Host and Origin can get refused: the guard decides as the reference does. */
export function edgeAgreesWithReference(
  createGuard: (options: EdgeGuardOptions) => (request: InboundRequest) => Reply | undefined,
): fc.IProperty<[{ options: EdgeGuardOptions; host: string | undefined; origin: string | undefined }]> {
  return fc.property(edgeInput, ({ options, host, origin }) => {
    const headers = [...EDGE_HEADERS];
    if (host !== undefined) headers.push(["host", host]);
    if (origin !== undefined) headers.push(["origin", origin]);
    const reply = createGuard(options)(fakeRequest({ headers }));
    const expected = referenceEdge(host, origin, options);
    if (reply === undefined) {
      if (expected !== "pass")
        throw new Error(`the guard let through what the reference refuses (${expected})`);
      return;
    }
    if (reply.kind !== "body" || reply.status !== 403 || typeof reply.body !== "string")
      throw new Error(`the guard answered ${reply.kind === "body" ? reply.status : reply.kind}, not 403`);
    const body = assertRejectionBody(reply.body, { codes: [-32000], reasons: [expected] });
    if (body.id !== null) throw new Error("an edge rejection carries an id");
  });
}

// --- JWT shape checks before crypto (RFC 7515 §7.1, RFC 8725 §3.1/3.10, JWT-01/02/06/08) -----------

export const ACCEPTED_ALGORITHMS = ["RS256"];

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  // RFC 7515 §2: base64url without padding; a length of 1 (mod 4) encodes no whole byte.
  if (!/^[A-Za-z0-9_-]+$/.test(segment) || segment.length % 4 === 1) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(segment, "base64url")));
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** What a token must be before any key is looked up (the reference for `inspectJwt`). */
export function referenceShape(token: string, algorithms: readonly string[]): boolean {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return false;
  const segments = token.split(".");
  if (segments.length !== 3) return false;
  const [encodedHeader = "", encodedClaims = "", signature = ""] = segments;
  const header = decodeSegment(encodedHeader);
  if (header === undefined || decodeSegment(encodedClaims) === undefined) return false;
  if (!/^[A-Za-z0-9_-]+$/.test(signature)) return false;
  const alg = header["alg"];
  if (typeof alg !== "string" || !algorithms.includes(alg)) return false;
  // RFC 7515 §4.1.11: a crit we do not implement must be refused; we implement none. RFC 8725 §3.10:
  // keys named by the token (jku, x5u, jwk) are never followed.
  if (Object.hasOwn(header, "crit") || ["jku", "x5u", "jwk"].some((name) => Object.hasOwn(header, name)))
    return false;
  const kid = header["kid"];
  return kid === undefined || (typeof kid === "string" && kid.length > 0 && kid.length <= 256);
}

const b64url = (text: string): string => Buffer.from(text).toString("base64url");

const headerMember = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("RS256", "rs256", "none", "HS256", "PS256", "RS384", "", "RS256 "),
  fc.integer(),
  fc.constant(null),
  fc.array(fc.constant("RS256"), { maxLength: 1 }),
);

const headerMembers = {
  alg: fc.oneof({ weight: 4, arbitrary: fc.constant("RS256") }, headerMember),
  kid: fc.oneof(
    fc.constant("k1"),
    fc.constant(""),
    fc.constant("x".repeat(256)),
    fc.constant("x".repeat(257)),
    fc.string(),
    fc.integer(),
    fc.constant(null),
  ),
  typ: fc.constantFrom("JWT", "at+jwt", "AT+JWT", "application/at+jwt", "jwt", 5),
  crit: fc.oneof(fc.constant(["exp"]), fc.constant([]), fc.constant("b64")),
  jku: fc.constantFrom("https://attacker.test/jwks", ""),
  x5u: fc.constant("https://attacker.test/cert"),
  jwk: fc.constant({ kty: "RSA", n: "AQAB", e: "AQAB" }),
  x5c: fc.constant(["MIIB"]),
};
const CLEAN_HEADER = { alg: "RS256", kid: "k1", typ: "JWT" };

/**
 * JWT headers: a clean one, a clean one with exactly ONE member changed or added (each rule's
 * boundary, alone), or any combination of every member Paved looks at, each present or absent.
 */
export const jwtHeader: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(CLEAN_HEADER) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      ...Object.entries(headerMembers).map(([name, value]) =>
        (value as fc.Arbitrary<unknown>).map((picked) => ({ ...CLEAN_HEADER, [name]: picked })),
      ),
    ),
  },
  { weight: 2, arbitrary: fc.record(headerMembers, { requiredKeys: [] }) },
);

/** Compact JWS-shaped strings: well-formed, then broken segment by segment. */
export const jwtLike: fc.Arbitrary<string> = fc
  .tuple(
    jwtHeader,
    fc.oneof(
      { weight: 4, arbitrary: fc.constant('{"sub":"a","exp":1}') },
      fc.json(),
      fc.constant("[]"),
      fc.constant("null"),
      anyText(10),
    ),
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.string({
          unit: fc.constantFrom(...Array.from("AZaz09-_")),
          minLength: 1,
          maxLength: 20,
        }),
      },
      fc.constantFrom("", "a=", "a+b", "a/b", "a.b"),
    ),
    fc.constantFrom(
      "none",
      "none",
      "none",
      "none",
      "none",
      "none",
      "extra",
      "jwe",
      "drop",
      "pad",
      "space",
      "plus",
      "mod4",
      "latin1",
    ),
  )
  .map(([header, claims, signature, corruption]) => {
    const parts = [b64url(JSON.stringify(header)), b64url(claims), signature];
    switch (corruption) {
      case "extra":
        return `${parts.join(".")}.`;
      case "jwe":
        return `${parts.join(".")}.a.b`;
      case "drop":
        return `${parts[0]}.${parts[2]}`;
      case "pad":
        return `${parts[0]}=.${parts[1]}.${parts[2]}`;
      case "space":
        return ` ${parts.join(".")}`;
      case "plus":
        return `${parts[0]?.replace(/-/g, "+")}.${parts[1]}.${parts[2]}`;
      case "mod4":
        return `${parts[0]}a.${parts[1]}.${parts[2]}`;
      case "latin1":
        return `${Buffer.from(JSON.stringify(header), "latin1").toString("base64url")}é.${parts[1]}.${parts[2]}`;
      default:
        return parts.join(".");
    }
  });

/** `inspect` passes a token exactly when the reference says its shape is acceptable. */
export function inspectAgreesWithReference(
  inspect: (token: string, options: { readonly algorithms: readonly string[] }) => UnverifiedJwt,
): fc.IProperty<[string]> {
  return fc.property(jwtLike, (token) => {
    let passed: boolean;
    try {
      inspect(token, { algorithms: ACCEPTED_ALGORITHMS });
      passed = true;
    } catch (error) {
      if ((error as Error).name !== "InvalidTokenError") throw error;
      passed = false;
    }
    const expected = referenceShape(token, ACCEPTED_ALGORITHMS);
    if (passed !== expected)
      throw new Error(
        `inspect ${passed ? "passed" : "refused"} what the reference ${expected ? "passes" : "refuses"}`,
      );
  });
}
