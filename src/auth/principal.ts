/**
 * The authenticated caller, as every tool sees it (`ctx.user`). Built once per request from a
 * validated token; never from anything the client asserts about itself.
 */
export interface Principal {
  /**
   * Stable key for this caller: `tid:oid` for Entra ID (never `upn` or `email`), the issuer-scoped
   * `sub` for other OIDC issuers. Rate limits, sessions and audit logs key on it.
   */
  readonly id: string;
  readonly tenantId?: string;
  readonly objectId?: string;
  /** The client application the token was issued to (`azp` / `appid`). */
  readonly clientId?: string;
  readonly name?: string;
  readonly username?: string;
  /** Delegated scopes (`scp`), short names as the token carries them. */
  readonly scopes: readonly string[];
  /** App roles (`roles`). */
  readonly roles: readonly string[];
  /** A token an application got for itself (client credentials), with no user behind it. */
  readonly isAppOnly: boolean;
  /** Every claim of the validated token, read-only. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * The caller when authentication is switched off (development only: `paved start` refuses a
 * host without authentication).
 */
export const ANONYMOUS: Principal = Object.freeze({
  id: "anonymous",
  scopes: Object.freeze([]),
  roles: Object.freeze([]),
  isAppOnly: false,
  claims: Object.freeze({}),
});
