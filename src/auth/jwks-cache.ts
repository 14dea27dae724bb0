import { importJWK, type CryptoKey, type JWK } from "jose";
import type { Logger } from "../telemetry/logger.js";
import type { IdentityObserver } from "../telemetry/metrics.js";
import { IdentityUnavailableError, InvalidTokenError } from "./token-validator.js";

/** A public key exactly as the issuer published it; Entra adds members such as `issuer`. */
export type PublishedJwk = Readonly<JWK> & { readonly issuer?: unknown; readonly [member: string]: unknown };

/** The key chosen for one token: the published JWK (for extra checks) and the imported key. */
export interface ResolvedKey {
  readonly jwk: PublishedJwk;
  readonly key: CryptoKey;
}

/** Limits for our own outbound requests to an identity provider (discovery documents, key sets). */
export interface FetchJsonOptions {
  /** `fetch` to use (tests inject one). Default: the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Give up after this many milliseconds, body included. Default 5000. */
  readonly timeoutMs?: number;
  /** Refuse bodies larger than this many bytes. Default 524 288 (512 KiB; Entra's key set is ~10 KiB). */
  readonly maxBytes?: number;
}

/** Options of {@link createJwksCache}; every member is optional. */
export interface JwksCacheOptions extends FetchJsonOptions {
  /** At most one unscheduled refresh (unknown `kid`, missing keys) per this many milliseconds. Default 30 000. */
  readonly cooldownMs?: number;
  /** Background refresh period in milliseconds (Entra: "every 24 hours"). Default 86 400 000. */
  readonly refreshIntervalMs?: number;
  /** A key set with more keys than this is refused (keeps one response from costing unbounded imports). Default 100. */
  readonly maxKeys?: number;
  /** Refresh failures are logged here at `warn`; nothing is logged when absent. */
  readonly logger?: Pick<Logger, "warn">;
  /** Told about every fetch and whether it gave a usable key set (`paved.auth.jwks.refreshes`). */
  readonly observer?: Pick<IdentityObserver, "keySetRefresh">;
}

/** One issuer key set: fetched by us, last-known-good kept, keys imported once. */
export interface JwksCache {
  /** The key set URL (configuration, safe to log). */
  readonly url: string;
  /** Whether a key set has been loaded (it stays loaded when later refreshes fail). */
  ready(): boolean;
  /** The published keys currently in use, for diagnostics and extra checks. */
  keys(): readonly PublishedJwk[];
  /** Fetches now (shared with a refresh already running). Never rejects: a failure keeps the last good set. */
  refresh(): Promise<void>;
  /** Resolves when keys are loaded, fetching if none are; rejects with {@link IdentityUnavailableError} otherwise. */
  load(): Promise<void>;
  /**
   * The key for a token header. An unknown `kid` triggers at most one refresh per cooldown, shared
   * by concurrent callers. Rejects with {@link InvalidTokenError} (`key`, `algorithm`) or, when no
   * key set was ever loaded, {@link IdentityUnavailableError}.
   */
  resolve(header: { readonly alg?: string; readonly kid?: string }): Promise<ResolvedKey>;
  /** Stops the background refresh. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 512 * 1024;
const DEFAULT_COOLDOWN_MS = 30_000;
const DEFAULT_REFRESH_MS = 24 * 60 * 60 * 1000;
/** Members that only private or symmetric keys carry: such a key never verifies anything here. */
const SECRET_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth", "priv"];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Whether Paved may fetch this URL: https, or http on a loopback host (tests, local emulators).
 * Never credentials in the URL. SEC-03/SEC-05: keys travel over TLS or never leave the machine.
 */
export function isFetchableUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username !== "" || url.password !== "" || url.hash !== "") return false;
  if (url.protocol === "https:") return true;
  const host = url.hostname;
  return (
    url.protocol === "http:" &&
    (host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host))
  );
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Bounded: every iteration adds bytes or ends the stream; the timeout signal aborts a stalled one.
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
}

/**
 * GETs a JSON object from an identity provider with a timeout, a size cap and no redirects (a
 * redirect could lead anywhere; the URLs come from configuration or the issuer's own metadata).
 * Rejects with a plain `Error` whose message names the URL and the failure, never a body.
 */
export async function fetchJson(
  url: string,
  options: FetchJsonOptions = {},
): Promise<Record<string, unknown>> {
  if (!isFetchableUrl(url))
    throw new Error(`refusing to fetch ${url}: only https (or http on loopback) is allowed`);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const response = await (options.fetch ?? globalThis.fetch)(url, {
    headers: { accept: "application/json" },
    redirect: "error",
    signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`${url} answered HTTP ${response.status}`);
  }
  if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
    await response.body?.cancel();
    throw new Error(`${url}: response larger than ${maxBytes} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(await readCapped(response, maxBytes));
  } catch (error) {
    throw new Error(`${url}: ${error instanceof SyntaxError ? "not JSON" : (error as Error).message}`, {
      cause: error,
    });
  }
  if (!isRecord(value)) throw new Error(`${url}: not a JSON object`);
  return value;
}

/** Usable verification keys only: asymmetric, public, meant for signatures. */
function parseKeySet(body: Record<string, unknown>, maxKeys: number): PublishedJwk[] {
  const keys = body["keys"];
  if (!Array.isArray(keys)) throw new Error("no `keys` array");
  if (keys.length > maxKeys) throw new Error(`more than ${maxKeys} keys`);
  const usable = keys.filter(
    (jwk): jwk is Record<string, unknown> =>
      isRecord(jwk) &&
      (jwk["kty"] === "RSA" || jwk["kty"] === "EC" || jwk["kty"] === "OKP") &&
      (jwk["use"] === undefined || jwk["use"] === "sig") &&
      (jwk["kid"] === undefined || typeof jwk["kid"] === "string") &&
      !SECRET_MEMBERS.some((member) => member in jwk),
  );
  if (usable.length === 0) throw new Error("no usable signing keys");
  return usable.map((jwk) => Object.freeze({ ...jwk }) as PublishedJwk);
}

/** RFC 8725 §3.1: a key is used with exactly one algorithm, its own `alg` when it names one. */
function keyAllows(jwk: PublishedJwk, alg: string): boolean {
  if (typeof jwk.alg === "string") return jwk.alg === alg;
  switch (jwk.kty) {
    case "RSA":
      return /^(?:RS|PS)(?:256|384|512)$/.test(alg);
    case "EC":
      return (
        ({ "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" } as Record<string, string>)[
          jwk.crv ?? ""
        ] === alg
      );
    case "OKP":
      return (jwk.crv === "Ed25519" || jwk.crv === "Ed448") && (alg === "EdDSA" || alg === jwk.crv);
    default:
      return false;
  }
}

interface Entry {
  readonly jwk: PublishedJwk;
  readonly canonical: string;
  /** Imported keys by algorithm: importJWK runs once per key and algorithm, not per token. */
  readonly imported: Map<string, Promise<CryptoKey>>;
}

/**
 * A key set fetched from `url` (https, or http on loopback), with outage tolerance: a refresh that
 * fails keeps the last-known-good keys. Refreshed in the background every `refreshIntervalMs`
 * (timer unref'd); an unknown `kid` forces at most one refresh per `cooldownMs`, shared by concurrent
 * callers, so a flood of random kids costs one request. We fetch ourselves rather than use jose's
 * `createRemoteJWKSet` because Entra keys carry an `issuer` member that must be checked (ENTRA-05).
 */
export function createJwksCache(url: string, options: JwksCacheOptions = {}): JwksCache {
  if (!isFetchableUrl(url)) throw new TypeError(`key set URL ${url} is not https (http only on loopback)`);
  const cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const maxKeys = options.maxKeys ?? 100;
  let entries: readonly Entry[] = [];
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function fetchKeys(): Promise<void> {
    try {
      const published = parseKeySet(await fetchJson(url, options), maxKeys);
      const previous = new Map(entries.map((entry) => [entry.canonical, entry]));
      entries = published.map((jwk) => {
        const canonical = JSON.stringify(jwk);
        return previous.get(canonical) ?? { jwk, canonical, imported: new Map() };
      });
      if (timer === undefined && !closed) {
        timer = setInterval(() => void refresh(), options.refreshIntervalMs ?? DEFAULT_REFRESH_MS);
        timer.unref();
      }
      options.observer?.keySetRefresh(true);
    } catch (error) {
      options.observer?.keySetRefresh(false);
      options.logger?.warn(
        { url, err: error },
        entries.length > 0 ? "key set refresh failed; keeping the last good keys" : "key set unavailable",
      );
    }
  }

  function refresh(): Promise<void> {
    if (inflight !== undefined) return inflight;
    lastAttempt = Date.now();
    inflight = fetchKeys().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  /** The refresh already running, or a new one if the cooldown allows; otherwise nothing. */
  function refreshWithinCooldown(): Promise<void> | undefined {
    if (inflight !== undefined) return inflight;
    return Date.now() - lastAttempt >= cooldownMs ? refresh() : undefined;
  }

  function find(kid: string | undefined): Entry | undefined {
    // Without a kid the choice must be unambiguous: exactly one key in the set.
    if (kid === undefined) return entries.length === 1 ? entries[0] : undefined;
    return entries.find((entry) => entry.jwk.kid === kid);
  }

  function importFor(entry: Entry, alg: string): Promise<CryptoKey> {
    let key = entry.imported.get(alg);
    if (key === undefined) {
      key = importJWK(entry.jwk as JWK, alg).then((imported) => {
        if (imported instanceof Uint8Array) throw new TypeError("symmetric key");
        // RFC 7518 §3.3: RSA keys of 2048 bits or more (jose would refuse it at verify time anyway).
        const modulusLength = (imported.algorithm as Partial<RsaHashedKeyAlgorithm>).modulusLength;
        if (modulusLength !== undefined && modulusLength < 2048)
          throw new TypeError("RSA key shorter than 2048 bits");
        return imported;
      });
      entry.imported.set(alg, key);
      // A key that cannot be imported is not remembered as such: a later refresh may fix it.
      key.catch(() => entry.imported.delete(alg));
    }
    return key;
  }

  return {
    url,
    ready: () => entries.length > 0,
    keys: () => entries.map((entry) => entry.jwk),
    refresh,
    async load() {
      if (entries.length === 0) await refresh();
      if (entries.length === 0) throw new IdentityUnavailableError();
    },
    async resolve(header) {
      if (entries.length === 0) await refreshWithinCooldown();
      if (entries.length === 0) throw new IdentityUnavailableError();
      let entry = find(header.kid);
      if (entry === undefined) {
        const pending = refreshWithinCooldown();
        if (pending !== undefined) {
          await pending;
          entry = find(header.kid);
        }
      }
      if (entry === undefined)
        throw new InvalidTokenError("key", "No signing key of the issuer matches the access token");
      const alg = header.alg ?? "";
      if (!keyAllows(entry.jwk, alg))
        throw new InvalidTokenError(
          "algorithm",
          "The signing key does not allow the access token's algorithm",
        );
      try {
        return { jwk: entry.jwk, key: await importFor(entry, alg) };
      } catch {
        throw new InvalidTokenError("key", "The issuer's signing key could not be used");
      }
    },
    close() {
      closed = true;
      clearInterval(timer);
      timer = undefined;
    },
  };
}
