import { opaque, sha256 } from "./ids.js";
import type { ResolvedUser } from "./users.js";

/** What a user consented to, carried by an authorization code and then by refresh tokens. */
export interface Grant {
  readonly clientId: string;
  readonly clientAppId: string;
  readonly tenantId: string;
  readonly user: ResolvedUser;
  /** Short names granted (for `scp`). */
  readonly scopes: readonly string[];
  /** OpenID Connect scopes granted. */
  readonly oidc: readonly string[];
}

export interface CodeGrant extends Grant {
  readonly redirectUri: string;
  /** RFC 7636 S256 challenge. */
  readonly codeChallenge: string;
  readonly nonce?: string;
}

/** The outcome of presenting a code or refresh token. */
export type Redemption<T> =
  { readonly kind: "valid"; readonly grant: T } | { readonly kind: "reused" } | { readonly kind: "unknown" };

/** Entra codes live 10 minutes; refresh tokens 90 days (in memory here, so until restart). */
const CODE_TTL_MS = 10 * 60_000;
const REFRESH_TTL_MS = 90 * 24 * 3600_000;
/** Bounds on every map, so a loop against the provider cannot exhaust memory. */
const MAX_ENTRIES = 10_000;

function bounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= MAX_ENTRIES) break;
    map.delete(oldest);
  }
}

export interface GrantStore {
  issueCode(grant: CodeGrant): string;
  /** Single use: the code is gone after the first attempt, whatever its outcome (RFC 6749 §4.1.2). */
  redeemCode(code: string): Redemption<CodeGrant>;
  issueRefreshToken(grant: Grant, family?: string): string;
  /**
   * Rotation (OAuth 2.1 §4.3.1): a refresh token works once. Presenting a rotated one again means
   * it leaked, so the whole family is revoked (RFC 9700 §4.14.2).
   */
  rotateRefreshToken(token: string): Redemption<Grant & { readonly family: string }>;
}

/** In-memory codes and refresh tokens, stored by hash so the maps never hold a usable value. */
export function createGrantStore(now: () => number = Date.now): GrantStore {
  const codes = new Map<string, CodeGrant & { expiresAt: number }>();
  const usedCodes = new Map<string, true>();
  const refreshTokens = new Map<string, Grant & { family: string; expiresAt: number }>();
  const rotated = new Map<string, string>();

  return {
    issueCode(grant) {
      const code = opaque();
      bounded(codes, sha256(code), { ...grant, expiresAt: now() + CODE_TTL_MS });
      return code;
    },
    redeemCode(code) {
      const key = sha256(code);
      const grant = codes.get(key);
      if (grant === undefined) return usedCodes.has(key) ? { kind: "reused" } : { kind: "unknown" };
      codes.delete(key);
      bounded(usedCodes, key, true);
      return grant.expiresAt > now() ? { kind: "valid", grant } : { kind: "unknown" };
    },
    issueRefreshToken(grant, family = opaque(16)) {
      const token = opaque();
      bounded(refreshTokens, sha256(token), { ...grant, family, expiresAt: now() + REFRESH_TTL_MS });
      return token;
    },
    rotateRefreshToken(token) {
      const key = sha256(token);
      const grant = refreshTokens.get(key);
      if (grant === undefined) {
        const family = rotated.get(key);
        if (family === undefined) return { kind: "unknown" };
        for (const [other, candidate] of refreshTokens)
          if (candidate.family === family) refreshTokens.delete(other);
        return { kind: "reused" };
      }
      refreshTokens.delete(key);
      bounded(rotated, key, grant.family);
      return grant.expiresAt > now() ? { kind: "valid", grant } : { kind: "unknown" };
    },
  };
}
