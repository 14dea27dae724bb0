import { GUID } from "./ids.js";
import type { DevApp } from "./scopes.js";
import { accessTokenClaims, type TokenSigner } from "./tokens.js";
import { resolveUser, type DevUser } from "./users.js";

/** What {@link DevIdentityProvider.mintToken} and `paved token` accept. Every field is optional. */
export interface MintTokenOptions {
  /** The signed-in user: a login name (`"alice"`) or a user. Default: `alice`. Ignored with `appOnly`. */
  readonly user?: string | DevUser;
  /** `tid` and the issuer's tenant segment, a GUID. Default: the provider's tenant. */
  readonly tenantId?: string;
  /** Delegated scopes (`scp`), short names. Default: every scope the app exposes. Ignored with `appOnly`. */
  readonly scopes?: readonly string[];
  /** App roles (`roles`). Default: the app's roles for app-only tokens, the user's roles otherwise. */
  readonly roles?: readonly string[];
  /** An app-only token (client credentials): `roles`, `idtyp: "app"`, no user. Default: false. */
  readonly appOnly?: boolean;
  /** Token version (`ver`, issuer and `aud` shapes). Default: the provider's `accessTokenVersion` (2). */
  readonly version?: 1 | 2;
  /** Lifetime in seconds, 1 to 31 536 000. Default: 3600 (Entra issues 60–90 minutes). */
  readonly lifetimeSeconds?: number;
  /** The calling client (`azp` / `appid`). Default: the pre-registered confidential client. */
  readonly clientId?: string;
  /** `iat` and `nbf`, seconds since the epoch. Default: now. Set it in the past to mint an expired token. */
  readonly issuedAt?: number;
  /** Claims merged last, over the minted ones: for tests of rejection paths (a foreign `aud`, no `scp`). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface MinterContext {
  readonly signer: TokenSigner;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly app: DevApp;
  readonly tenantId: string;
  readonly accessTokenVersion: 1 | 2;
  readonly defaultClientId: string;
  readonly users: readonly DevUser[];
}

const MAX_LIFETIME_SECONDS = 365 * 24 * 3600;

/** Mints access tokens straight from the signing key, with no HTTP round trip (tests, `paved token`, `paved dev`). */
export function createMinter(context: MinterContext): (options?: MintTokenOptions) => Promise<string> {
  return async function mintToken(options = {}) {
    const tenantId = (options.tenantId ?? context.tenantId).toLowerCase();
    if (!GUID.test(tenantId)) throw new TypeError(`mintToken: tenantId must be a GUID, got "${tenantId}"`);
    const lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > MAX_LIFETIME_SECONDS) {
      throw new TypeError(`mintToken: lifetimeSeconds must be an integer from 1 to ${MAX_LIFETIME_SECONDS}`);
    }
    const user = resolveUser(options.user ?? "alice", tenantId, context.users);
    const claims = accessTokenClaims({
      baseUrl: context.baseUrl,
      app: context.app,
      tenantId,
      version: options.version ?? context.accessTokenVersion,
      subject:
        options.appOnly === true
          ? { kind: "app", roles: options.roles ?? context.app.roles }
          : {
              kind: "user",
              user,
              scopes: options.scopes ?? context.app.scopes,
              roles: options.roles ?? user.roles,
            },
      clientAppId: options.clientId ?? context.defaultClientId,
      clientAuthentication: "1",
      lifetimeSeconds,
      ...(options.issuedAt !== undefined && { issuedAt: options.issuedAt }),
    });
    return context.signer.sign({ ...claims, ...options.claims });
  };
}
