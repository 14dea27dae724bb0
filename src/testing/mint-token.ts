import { createMinter, type MintTokenOptions } from "../dev/mint.js";
import { DEV_CLIENT_ID, DEV_TENANT_ID } from "../dev/options.js";
import { DEFAULT_DEV_USERS, type DevUser } from "../dev/users.js";
import { TEST_AUTHORITY, testSigner } from "./test-authority.js";

/** The test tenant (`tid`) unless a test host names another: recognisably fake. */
export const TEST_TENANT_ID = DEV_TENANT_ID;
/** The test API app's client ID (`aud` of v2 tokens) unless a test host names another. */
export const TEST_CLIENT_ID = DEV_CLIENT_ID;
/** The client application test tokens are issued to (`azp` / `appid`) unless `clientId` says otherwise. */
export const TEST_CLIENT_APP_ID = "33333333-3333-4333-8333-333333333333";

/** Who a test token is for. Every field is optional. */
export interface TestTokenOptions {
  /** The signed-in user: `"alice"`, `"bob"`, any other login name, or a full user. Default: `alice`. Ignored with `appOnly`. */
  readonly user?: string | DevUser;
  /** `tid`, a GUID. Default: the host's tenant. A host configured for one tenant refuses other tenants (401). */
  readonly tenant?: string;
  /** Delegated scopes (`scp`), short names. Default: every scope the host's tools, prompts and resources declare. */
  readonly scopes?: readonly string[];
  /** App roles (`roles`). Default: the user's roles (none for alice and bob); for `appOnly`, every role the host declares. */
  readonly roles?: readonly string[];
  /** An app-only token (client credentials): roles, no user, no `scp`. Default: false. */
  readonly appOnly?: boolean;
  /** Token version. Default: 2 (1 when the host accepts only v1). */
  readonly version?: 1 | 2;
  /** The calling client (`azp` / `appid`). Default: {@link TEST_CLIENT_APP_ID}. */
  readonly clientId?: string;
  /** Lifetime in seconds. Default: 3600. */
  readonly lifetimeSeconds?: number;
  /** `iat` and `nbf`, seconds since the epoch. Default: now. Set it in the past to mint an expired token. */
  readonly issuedAt?: number;
  /** Claims merged last, over the minted ones (a foreign `aud`, a missing `oid`). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The Entra app a test host stands for, and so what its tokens say. */
export interface TestIdentity {
  /** The v2 issuer of the default tenant. */
  readonly issuer: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly applicationIdUri: string;
  /** Scopes and roles tokens carry when a test does not name any. */
  readonly defaultScopes: readonly string[];
  readonly defaultRoles: readonly string[];
  readonly accessTokenVersion: 1 | 2;
}

/** The identity {@link mintToken} mints for, and a test host uses unless told otherwise. */
export const DEFAULT_TEST_IDENTITY: TestIdentity = Object.freeze({
  issuer: `${TEST_AUTHORITY}/${TEST_TENANT_ID}/v2.0`,
  tenantId: TEST_TENANT_ID,
  clientId: TEST_CLIENT_ID,
  applicationIdUri: `api://${TEST_CLIENT_ID}`,
  defaultScopes: Object.freeze(["access_as_user"]),
  defaultRoles: Object.freeze(["access_as_application"]),
  accessTokenVersion: 2,
});

/** A minter bound to one identity, signing with the in-memory test key. */
export function createTestMinter(identity: TestIdentity): (options?: TestTokenOptions) => Promise<string> {
  const minter = testSigner().then((signer) =>
    createMinter({
      signer,
      baseUrl: TEST_AUTHORITY,
      app: {
        clientId: identity.clientId,
        applicationIdUri: identity.applicationIdUri,
        scopes: identity.defaultScopes,
        roles: identity.defaultRoles,
      },
      tenantId: identity.tenantId,
      accessTokenVersion: identity.accessTokenVersion,
      defaultClientId: TEST_CLIENT_APP_ID,
      users: DEFAULT_DEV_USERS,
    }),
  );
  return async function mintTestToken(options = {}) {
    const { tenant, ...rest } = options;
    const mint = await minter;
    const input: MintTokenOptions = { ...rest, ...(tenant !== undefined && { tenantId: tenant }) };
    return mint(input);
  };
}

/**
 * Mints an Entra-shaped access token signed by the in-memory key every {@link createTestHost} host
 * trusts, for the default test identity (tenant {@link TEST_TENANT_ID}, app {@link TEST_CLIENT_ID}).
 * Without `scopes` a user token carries `access_as_user` only: name the scopes your test is about.
 * For a host with its own `azureAd` settings, or to default to the scopes its tools declare, use
 * `host.mintToken()`.
 *
 * @example
 * const token = await mintToken({ user: "bob", scopes: ["Weather.Read"] });
 * const daemon = await mintToken({ appOnly: true, roles: ["Weather.Reader"] });
 */
export const mintToken: (options?: TestTokenOptions) => Promise<string> = (() => {
  let minter: ((options?: TestTokenOptions) => Promise<string>) | undefined;
  return (options?: TestTokenOptions) => {
    minter ??= createTestMinter(DEFAULT_TEST_IDENTITY);
    return minter(options);
  };
})();
