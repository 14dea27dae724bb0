import { GUID } from "./ids.js";
import { OIDC_SCOPES, type DevApp } from "./scopes.js";
import { DEFAULT_DEV_USERS, type DevUser } from "./users.js";

/** Options of {@link createDevIdentityProvider}. Every field is optional. */
export interface DevIdentityProviderOptions {
  /** TCP port. Default: 0 (a free port; set one for an issuer that survives restarts). */
  readonly port?: number;
  /** Listen address. Loopback only, by design. Default: `127.0.0.1`. */
  readonly host?: "127.0.0.1";
  /** Where the signing key, client secret and registrations persist, relative to the working directory. Default: `.paved`. */
  readonly stateDir?: string;
  /** The tenant (`tid`), a GUID. Default: {@link DEV_TENANT_ID}. */
  readonly tenantId?: string;
  /** The API app's client ID (`aud` of v2 tokens), a GUID. Default: {@link DEV_CLIENT_ID}. */
  readonly clientId?: string;
  /** The API app's Application ID URI, without a trailing slash; RFC 8707 `resource` must equal it. Default: `api://<clientId>`. */
  readonly applicationIdUri?: string;
  /** Test users on the consent page. Default: alice and bob. */
  readonly users?: readonly DevUser[];
  /** Delegated scopes the app exposes, short names (`Weather.Read`). Default: `["access_as_user"]`. */
  readonly scopes?: readonly string[];
  /** App roles granted to the pre-registered confidential client. Default: `["access_as_application"]`. */
  readonly roles?: readonly string[];
  /** Access-token version it issues (the app manifest's `requestedAccessTokenVersion`). Default: 2. */
  readonly accessTokenVersion?: 1 | 2;
}

/** The development tenant's ID unless one is given: recognisably fake. */
export const DEV_TENANT_ID = "11111111-1111-4111-8111-111111111111";
/** The development API app's client ID unless one is given. */
export const DEV_CLIENT_ID = "22222222-2222-4222-8222-222222222222";

export interface ProviderSettings {
  readonly port: number;
  readonly host: "127.0.0.1";
  readonly stateDir: string;
  readonly tenantId: string;
  readonly app: DevApp;
  readonly users: readonly DevUser[];
  readonly accessTokenVersion: 1 | 2;
}

/** Scope and role values Entra accepts: no spaces, no slash (they are appended to the Application ID URI). */
const PERMISSION = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$/;
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function fail(message: string): never {
  throw new TypeError(`createDevIdentityProvider: ${message}`);
}

function permissions(kind: string, values: readonly string[]): readonly string[] {
  for (const value of values) {
    if (!PERMISSION.test(value) || OIDC_SCOPES.has(value))
      fail(`${kind} "${value}" must be a short name such as Weather.Read`);
  }
  return Object.freeze([...new Set(values)]);
}

/** Checks the options once, at construction, and fills in the defaults. */
export function checkProviderOptions(options: DevIdentityProviderOptions): ProviderSettings {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail("port must be an integer from 0 to 65535");
  if (options.host !== undefined && options.host !== "127.0.0.1")
    fail("host must be 127.0.0.1 (the provider listens on loopback only)");
  const tenantId = (options.tenantId ?? DEV_TENANT_ID).toLowerCase();
  const clientId = (options.clientId ?? DEV_CLIENT_ID).toLowerCase();
  if (!GUID.test(tenantId)) fail("tenantId must be a GUID");
  if (!GUID.test(clientId)) fail("clientId must be a GUID");
  const applicationIdUri = options.applicationIdUri ?? `api://${clientId}`;
  if (applicationIdUri === "" || applicationIdUri.endsWith("/") || /\s/.test(applicationIdUri))
    fail("applicationIdUri must be non-empty, without spaces or a trailing slash");
  const users = options.users ?? DEFAULT_DEV_USERS;
  if (users.length === 0) fail("users must list at least one user");
  const ids = new Set<string>();
  for (const user of users) {
    if (!USER_ID.test(user.id) || ids.has(user.id))
      fail(`user id "${user.id}" must be unique: letters, digits, . _ -`);
    if (user.objectId !== undefined && !GUID.test(user.objectId))
      fail(`user "${user.id}": objectId must be a GUID`);
    ids.add(user.id);
  }
  const accessTokenVersion = options.accessTokenVersion ?? 2;
  if (accessTokenVersion !== 1 && accessTokenVersion !== 2) fail("accessTokenVersion must be 1 or 2");
  return {
    port,
    host: "127.0.0.1",
    stateDir: options.stateDir ?? ".paved",
    tenantId,
    app: Object.freeze({
      clientId,
      applicationIdUri,
      scopes: permissions("scope", options.scopes ?? ["access_as_user"]),
      roles: permissions("role", options.roles ?? ["access_as_application"]),
    }),
    users: Object.freeze([...users]),
    accessTokenVersion,
  };
}
