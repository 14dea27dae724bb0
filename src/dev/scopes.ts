import { DevOAuthError } from "./oauth-error.js";

/** The API app the provider issues tokens for: one app registration with exposed scopes and app roles. */
export interface DevApp {
  readonly clientId: string;
  readonly applicationIdUri: string;
  /** Delegated permissions the app exposes, short names (`Weather.Read`). */
  readonly scopes: readonly string[];
  /** App roles granted to the pre-registered confidential client (`roles` in app-only tokens). */
  readonly roles: readonly string[];
}

/** OpenID Connect scopes Entra accepts next to resource scopes; they never reach `scp`. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(["openid", "profile", "email", "offline_access"]);

/** A `scope` parameter, resolved the way Entra resolves it. */
export interface ResolvedScopes {
  /** Short names for `scp` (`.default` expanded to every exposed scope). */
  readonly resource: readonly string[];
  /** Whether the request used `<resource>/.default` (static consent). */
  readonly usedDefault: boolean;
  /** The OpenID Connect scopes asked for (`openid`, `offline_access`, …). */
  readonly oidc: readonly string[];
}

const GRAPH = "00000003-0000-0000-c000-000000000000";

/** `<applicationIdUri>/<short>`: the form clients request and challenges carry. */
export function qualify(app: DevApp, short: string): string {
  return `${app.applicationIdUri}/${short}`;
}

/**
 * Entra's rules: a resource scope is qualified by one of the app's identifiers (its Application ID
 * URI or its client ID); a bare name means Microsoft Graph (the trap that yields AADSTS650053
 * in production); `.default` cannot be combined with named scopes of the same resource.
 */
export function resolveScopes(raw: string | undefined, app: DevApp): ResolvedScopes {
  const items = [...new Set((raw ?? "").split(" ").filter((item) => item !== ""))];
  if (items.length === 0)
    throw new DevOAuthError(
      "invalid_request",
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  const identifiers = [app.applicationIdUri, app.clientId];
  const named: string[] = [];
  const oidc: string[] = [];
  let usedDefault = false;
  for (const item of items) {
    if (OIDC_SCOPES.has(item)) {
      oidc.push(item);
      continue;
    }
    const identifier = identifiers.find((candidate) => item.startsWith(`${candidate}/`));
    if (identifier === undefined) {
      if (item.includes("/")) {
        throw new DevOAuthError(
          "invalid_resource",
          500011,
          `The resource principal named ${item} was not found in the tenant. This provider only issues tokens for ${app.applicationIdUri}.`,
        );
      }
      throw new DevOAuthError(
        "invalid_scope",
        650053,
        `The application asked for scope '${item}' that doesn't exist on the resource '${GRAPH}'. A bare scope name means Microsoft Graph: ask for '${qualify(app, item)}'.`,
      );
    }
    const short = item.slice(identifier.length + 1);
    if (short === ".default") usedDefault = true;
    else if (app.scopes.includes(short)) named.push(short);
    else
      throw new DevOAuthError(
        "invalid_scope",
        650053,
        `The application asked for scope '${short}' that doesn't exist on the resource '${app.clientId}'.`,
      );
  }
  if (usedDefault && named.length > 0) {
    throw new DevOAuthError(
      "invalid_scope",
      70011,
      "The provided value for the input parameter 'scope' is not valid. Static (.default) and dynamic scopes can't be combined.",
    );
  }
  if (!usedDefault && named.length === 0) {
    throw new DevOAuthError(
      "invalid_scope",
      70011,
      `The provided value for the input parameter 'scope' is not valid. Ask for a scope of ${app.applicationIdUri}.`,
    );
  }
  return { resource: usedDefault ? [...app.scopes] : named, usedDefault, oidc };
}

/**
 * RFC 8707 `resource`: Entra now requires it to equal an Application ID URI exactly (AADSTS9010010);
 * a trailing slash or a different path is a mismatch, which is what this reproduces.
 */
export function checkResource(resource: string | undefined, app: DevApp): void {
  if (resource === undefined || resource === app.applicationIdUri) return;
  throw new DevOAuthError(
    "invalid_target",
    9010010,
    `The resource parameter provided in the request doesn't match with the requested scopes: '${resource}' is not the Application ID URI '${app.applicationIdUri}'.`,
  );
}
