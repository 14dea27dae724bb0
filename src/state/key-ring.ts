import { hkdfSync, randomBytes } from "node:crypto";

/**
 * What a key is used for. Each purpose gets its own key derived from the configured one (HKDF,
 * RFC 5869), so a value sealed for one purpose is never accepted for another.
 */
export type KeyPurpose = "request-state" | "forwarding";

/** The smallest configured key, in bytes (256 bits, what HMAC-SHA256 needs). */
export const MIN_KEY_BYTES = 32;

/**
 * The shared keys of all replicas (`server.stateKeys`): the first signs, every key verifies, so a
 * rotation adds the new key in front and drops the old one once every replica has the new list.
 */
export interface KeyRing {
  /** Keys for one purpose, current first. */
  keys(purpose: KeyPurpose): readonly Uint8Array[];
  /** True when nothing was configured and a random key serves this process alone. */
  readonly ephemeral: boolean;
}

/** Decodes one configured key (base64 or base64url); `undefined` when it is not one or too short. */
export function decodeKey(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, "base64");
  return bytes.length >= MIN_KEY_BYTES ? new Uint8Array(bytes) : undefined;
}

const INFO: Readonly<Record<KeyPurpose, string>> = {
  "request-state": "paved-mcp/request-state/v1",
  forwarding: "paved-mcp/forwarding/v1",
};

/**
 * Builds the ring from `server.stateKeys` (already validated by the configuration schema). Without
 * keys it holds one random key: fine for a single process, useless across replicas.
 *
 * @example
 * const ring = createKeyRing(config.server.stateKeys);
 * const [current] = ring.keys("request-state");
 */
export function createKeyRing(configured: readonly string[] | undefined): KeyRing {
  const roots = (configured ?? []).map((text) => {
    const key = decodeKey(text);
    if (key === undefined)
      throw new RangeError(`a state key must be base64 of at least ${MIN_KEY_BYTES} bytes`);
    return key;
  });
  const ephemeral = roots.length === 0;
  if (ephemeral) roots.push(new Uint8Array(randomBytes(MIN_KEY_BYTES)));
  const derived = new Map<KeyPurpose, readonly Uint8Array[]>();
  return {
    ephemeral,
    keys(purpose) {
      let keys = derived.get(purpose);
      if (keys === undefined) {
        keys = Object.freeze(
          roots.map((root) => new Uint8Array(hkdfSync("sha256", root, new Uint8Array(0), INFO[purpose], 32))),
        );
        derived.set(purpose, keys);
      }
      return keys;
    },
  };
}
