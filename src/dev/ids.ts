import { createHash, randomBytes } from "node:crypto";

/** Lower-case GUID, the form Entra uses for `tid`, `oid`, `appid`. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A GUID derived from its inputs (version 5 layout over SHA-256): the same user, app or client URL
 * gets the same object ID on every run, so tokens minted before a restart still name the same user.
 */
export function guidFrom(...parts: readonly string[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Entra's `sub` is pairwise: unique to the user *and* the application, so two apps cannot correlate
 * a user by `sub`. 43 base64url characters, like Entra's.
 */
export function pairwiseSubject(objectId: string, appId: string): string {
  return createHash("sha256").update(`${objectId}\u0000${appId}`).digest("base64url");
}

/** An unguessable opaque value (codes, refresh tokens, CSRF tokens): 256 bits, base64url. */
export function opaque(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** SHA-256 as base64url: PKCE S256 (RFC 7636 §4.2) and how secrets are compared. */
export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}
