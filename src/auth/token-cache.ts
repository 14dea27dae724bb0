import { hash } from "node:crypto";

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** Most entries kept; the least recently used goes first. Default 10 000. */
  readonly maxEntries?: number;
  /** Clock in milliseconds since the epoch (tests inject one). Default `Date.now`. */
  readonly now?: () => number;
}

/** Validation results keyed by token, so a token presented again skips signature verification. */
export interface TokenCache<T> {
  /** The result for `token`, unless absent or past its expiry (an expired entry is dropped). */
  get(token: string): T | undefined;
  /** Remembers `value` until `expiresAt` (seconds since the epoch, the token's `exp`); no-op if already past. */
  set(token: string, value: T, expiresAt: number): void;
  /** Entries held, expired ones not yet purged included. */
  readonly size: number;
  /** Forgets every entry (e.g. after a configuration change). */
  clear(): void;
}

/** A full sweep for expired entries runs at most this often (ms), so `set` stays O(1) amortised. */
const SWEEP_INTERVAL_MS = 60_000;

interface Entry<T> {
  readonly value: T;
  readonly expiresAtMs: number;
}

/**
 * A bounded LRU map from SHA-256(token) to a validation result. The token itself is never stored:
 * a heap dump of the cache yields hashes, not bearer credentials. Entries are never served at or
 * past `exp` (no clock skew is granted to a cached answer) and are purged lazily and by a sweep.
 */
export function createTokenCache<T>(options: TokenCacheOptions = {}): TokenCache<T> {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError("maxEntries must be a positive integer");
  const now = options.now ?? ((): number => Date.now());
  const entries = new Map<string, Entry<T>>();
  let lastSweep = now();

  // One-shot `hash` (no Hash object per call): about half the cost of createHash on a ~1 KB token.
  const keyOf = (token: string): string => hash("sha256", token, "base64url");

  function sweep(at: number): void {
    lastSweep = at;
    for (const [key, entry] of entries) if (entry.expiresAtMs <= at) entries.delete(key);
  }

  return {
    get(token) {
      const key = keyOf(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (entry.expiresAtMs <= now()) return undefined;
      entries.set(key, entry); // most recently used goes last
      return entry.value;
    },
    set(token, value, expiresAt) {
      const at = now();
      const expiresAtMs = expiresAt * 1000;
      if (!(expiresAtMs > at)) return;
      const key = keyOf(token);
      entries.delete(key);
      if (at - lastSweep >= SWEEP_INTERVAL_MS) sweep(at);
      // Map iteration order is insertion order, so the first key is the least recently used.
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
      entries.set(key, { value, expiresAtMs });
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}
