import { errors, jwtVerify } from "jose";
import type { Logger } from "../telemetry/logger.js";
import type { IdentityObserver } from "../telemetry/metrics.js";
import { MAX_TOKEN_LENGTH } from "./bearer.js";
import type { JwksCache, JwksCacheOptions, PublishedJwk } from "./jwks-cache.js";
import { createTokenCache, type TokenCacheOptions } from "./token-cache.js";
import { IdentityUnavailableError, InvalidTokenError, type ValidatedToken } from "./token-validator.js";

/** RFC 9068 §4: the `typ` header values of a JWT access token (compared case-insensitively). */
export const ACCESS_TOKEN_TYPES: readonly string[] = ["at+jwt", "application/at+jwt"];

/** Options shared by the Entra ID and OIDC validators. */
export interface JwtValidatorOptions {
  /** Key-set and discovery failures are logged here (`warn`); nothing is logged when absent. */
  readonly logger?: Pick<Logger, "warn">;
  /** `fetch` for discovery documents and key sets (tests inject one). Default: the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Key-set tuning: cooldown, refresh period, timeout, size cap (see {@link JwksCacheOptions} for defaults). */
  readonly keys?: Omit<JwksCacheOptions, "fetch" | "logger">;
  /** Validated-token cache tuning (default 10 000 entries). */
  readonly tokenCache?: Pick<TokenCacheOptions, "maxEntries">;
  /** Told about token-cache lookups and key-set fetches (the host's metrics). */
  readonly observer?: IdentityObserver;
}

/** A token that passed the shape checks, before any signature check: nothing in it is trusted yet. */
export interface UnverifiedJwt {
  readonly header: Readonly<Record<string, unknown>> & { readonly alg: string; readonly kid?: string };
  readonly claims: Readonly<Record<string, unknown>>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Header members that point at keys chosen by the sender: never followed (RFC 8725 §3.10, JWT-06). */
const SENDER_KEY_HEADERS = ["jku", "x5u", "jwk"];
const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeObject(segment: string): Record<string, unknown> | undefined {
  // base64url without padding never has a length ≡ 1 (mod 4); Buffer would silently accept it.
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) return undefined;
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, "base64url")));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Shape checks before any crypto or network work (JWT-08): size, three base64url segments (a
 * five-segment JWE is refused), a JSON header whose `alg` is in `algorithms` (so `none` and HMAC
 * never reach a key), no `crit`, no sender-chosen key (`jku`, `x5u`, `jwk`; `x5c` is ignored), a
 * signature, a JSON claims object, and with `types` an RFC 9068 `typ`. Throws {@link InvalidTokenError}.
 */
export function inspectJwt(
  token: string,
  options: { readonly algorithms: readonly string[]; readonly types?: readonly string[] },
): UnverifiedJwt {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH)
    throw new InvalidTokenError("malformed", "The access token is empty or too large");
  const segments = token.split(".");
  if (segments.length === 5)
    throw new InvalidTokenError("malformed", "Encrypted access tokens (JWE) are not accepted");
  const [encodedHeader, encodedClaims, signature] = segments;
  if (
    segments.length !== 3 ||
    encodedHeader === undefined ||
    encodedClaims === undefined ||
    signature === undefined
  ) {
    throw new InvalidTokenError("malformed", "The access token is not a JWT");
  }
  const header = decodeObject(encodedHeader);
  if (header === undefined) throw new InvalidTokenError("malformed", "The access token header is not valid");
  const alg = header["alg"];
  if (typeof alg !== "string" || !options.algorithms.includes(alg))
    throw new InvalidTokenError("algorithm", "The access token's signing algorithm is not accepted");
  if ("crit" in header)
    throw new InvalidTokenError("malformed", "Critical header parameters are not supported");
  if (SENDER_KEY_HEADERS.some((name) => name in header))
    throw new InvalidTokenError("key", "Keys named by the token itself are never used");
  const kid = header["kid"];
  if (kid !== undefined && (typeof kid !== "string" || kid.length === 0 || kid.length > 256))
    throw new InvalidTokenError("malformed", "The access token key ID is not valid");
  if (!SEGMENT.test(signature)) throw new InvalidTokenError("signature", "The access token is not signed");
  const claims = decodeObject(encodedClaims);
  if (claims === undefined) throw new InvalidTokenError("malformed", "The access token claims are not valid");
  if (options.types !== undefined) {
    const typ = header["typ"];
    if (typeof typ !== "string" || !options.types.includes(typ.toLowerCase()))
      throw new InvalidTokenError("token_type", "The token is not a JWT access token");
  }
  return { header: header as UnverifiedJwt["header"], claims };
}

/** What {@link verifyJwt} checks besides the signature. */
export interface VerifyJwtOptions {
  readonly keys: JwksCache;
  readonly algorithms: readonly string[];
  /** The exact `iss` (RFC 9068 §4, JWT-03): no normalisation of case or trailing slashes. */
  readonly issuer: string;
  /** `aud` (a string or an array) must contain one of these exactly (RFC 8707, JWT-09). */
  readonly audiences: readonly string[];
  /** Leeway for `exp` and `nbf`, in seconds. */
  readonly clockSkewSeconds: number;
}

/** A token whose signature, issuer, audience and lifetime checked out. */
export interface VerifiedJwt {
  readonly claims: Readonly<Record<string, unknown>> & { readonly exp: number; readonly iss: string };
  readonly header: Readonly<Record<string, unknown>>;
  /** The published key that verified the signature (Entra checks its `issuer`). */
  readonly jwk: PublishedJwk;
}

const MESSAGES: Readonly<Record<string, string>> = {
  malformed: "The access token is malformed",
  algorithm: "The access token's signing algorithm is not accepted",
  signature: "The access token signature is invalid",
  expired: "The access token has expired",
  not_yet_valid: "The access token is not valid yet",
  issuer: "The access token was issued by an issuer that is not trusted",
  audience: "The access token is for another audience",
  key: "The access token's signing key is not valid",
  claims: "The access token is missing required claims",
};

/** A stable reason and a fixed message: jose's messages quote claim names, never our concern to echo. */
function tokenError(reason: string): InvalidTokenError {
  return new InvalidTokenError(reason, MESSAGES[reason] ?? "The access token is invalid");
}

function toTokenError(error: unknown): Error {
  if (error instanceof InvalidTokenError || error instanceof IdentityUnavailableError) return error;
  if (error instanceof errors.JWTExpired) return tokenError("expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    // A claim of the wrong type (`"nbf": "soon"`) is a malformed claim set, not a time or issuer problem.
    if (error.reason === "invalid") return tokenError("claims");
    const byClaim: Record<string, string> = { nbf: "not_yet_valid", iss: "issuer", aud: "audience" };
    return tokenError(byClaim[error.claim] ?? "claims");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return tokenError("signature");
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return tokenError("algorithm");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return tokenError("malformed");
  // Anything else (a key of the wrong type or too short for the algorithm) is a key problem.
  return tokenError("key");
}

/**
 * Signature (key from the issuer's key set only, algorithm from the allow-list), exact issuer,
 * audience, and lifetime: `exp` is required (jose accepts its absence unless told), `nbf` honoured,
 * both with `clockSkewSeconds`. Throws {@link InvalidTokenError} with a stable reason, or
 * {@link IdentityUnavailableError} when no key set could be loaded.
 */
export async function verifyJwt(token: string, options: VerifyJwtOptions): Promise<VerifiedJwt> {
  let jwk: PublishedJwk | undefined;
  try {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      async (header) => {
        const resolved = await options.keys.resolve(header);
        jwk = resolved.jwk;
        return resolved.key;
      },
      {
        algorithms: [...options.algorithms],
        issuer: options.issuer,
        audience: [...options.audiences],
        clockTolerance: options.clockSkewSeconds,
        requiredClaims: ["exp"],
      },
    );
    if (jwk === undefined || typeof payload.exp !== "number" || typeof payload.iss !== "string")
      throw tokenError("claims");
    return { claims: payload as VerifiedJwt["claims"], header: protectedHeader, jwk };
  } catch (error) {
    throw toTokenError(error);
  }
}

/** A claim that must be a string when present; another type makes the token invalid (`claims`). */
export function stringClaim(claims: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw tokenError("claims");
  return value;
}

/** A claim that is a space-separated string or an array of strings; `[]` when absent. */
export function listClaim(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  forms: "string" | "array" | "both",
): string[] {
  const value = claims[name];
  if (value === undefined) return [];
  if (typeof value === "string" && forms !== "array") return value.split(" ").filter((item) => item !== "");
  if (Array.isArray(value) && forms !== "string" && value.every((item) => typeof item === "string"))
    return value.filter((item) => item !== "");
  throw tokenError("claims");
}

/**
 * Puts a bounded token cache (`options.maxEntries`, default 10 000) in front of `validate`: a token
 * seen before and not yet at its `exp` costs a SHA-256, no RSA. Oversized input is refused before
 * it is even hashed. Only successes are cached.
 */
export function withTokenCache(
  validate: (token: string) => Promise<ValidatedToken>,
  options: Pick<TokenCacheOptions, "maxEntries"> = {},
  observer?: Pick<IdentityObserver, "tokenCacheLookup">,
): (token: string) => Promise<ValidatedToken> {
  const cache = createTokenCache<ValidatedToken>(options);
  return async function validateCached(token) {
    if (token.length > MAX_TOKEN_LENGTH)
      throw new InvalidTokenError("malformed", "The access token is empty or too large");
    const cached = cache.get(token);
    observer?.tokenCacheLookup(cached !== undefined);
    if (cached !== undefined) return cached;
    const validated = await validate(token);
    cache.set(token, validated, validated.expiresAt);
    return validated;
  };
}

/** Lifecycle of a validator's remote state: metadata and keys. See {@link createReadiness}. */
export interface Readiness {
  /** Loads now; on failure rejects with {@link IdentityUnavailableError} and keeps retrying in the background. */
  start(): Promise<void>;
  /** Resolves when loaded; otherwise tries once per `retryMs` (shared), else {@link IdentityUnavailableError}. */
  ensure(): Promise<void>;
  ready(): boolean;
  /** Stops the retries; `onClose` releases the rest (key-set timers). */
  close(): void;
}

/**
 * Start, readiness and retry for a validator whose `load` fetches discovery metadata and keys.
 * Retries back off from `retryMs` (ms, at least 100) doubling to `maxRetryMs` (ms, default 300 000); the timer is
 * unref'd, so a validator that never came up does not keep the process alive.
 */
export function createReadiness(options: {
  readonly load: () => Promise<void>;
  readonly isReady: () => boolean;
  readonly retryMs: number;
  readonly maxRetryMs?: number;
  readonly onClose: () => void;
  readonly logger?: Pick<Logger, "warn">;
  readonly name: string;
}): Readiness {
  let inflight: Promise<void> | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;

  function attempt(): Promise<void> {
    if (inflight !== undefined) return inflight;
    lastAttempt = Date.now();
    inflight = options
      .load()
      .then(
        () => {
          failures = 0;
          // A load that finished after close() may have created key sets: release them too.
          if (closed) options.onClose();
        },
        (error: unknown) => {
          options.logger?.warn(
            { err: error, validator: options.name },
            "identity provider metadata or keys unavailable; will retry",
          );
          scheduleRetry();
          throw error instanceof IdentityUnavailableError ? error : new IdentityUnavailableError();
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  function scheduleRetry(): void {
    if (closed || timer !== undefined) return;
    // Never a tight loop, even with a zero cooldown: at least 100 ms between background attempts.
    const delay = Math.min(Math.max(options.retryMs, 100) * 2 ** failures, options.maxRetryMs ?? 300_000);
    failures++;
    timer = setTimeout(() => {
      timer = undefined;
      attempt().catch(() => undefined);
    }, delay);
    timer.unref();
  }

  return {
    async start() {
      if (!options.isReady()) await attempt();
    },
    async ensure() {
      if (options.isReady()) return;
      if (inflight !== undefined || Date.now() - lastAttempt >= options.retryMs)
        await attempt().catch(() => undefined);
      if (!options.isReady()) throw new IdentityUnavailableError();
    },
    ready: () => options.isReady(),
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      options.onClose();
    },
  };
}
