import type { PavedConfig } from "../config/schema.js";
import { PavedError } from "../errors.js";
import { isLoopbackHostname } from "../http/loopback.js";
import type { Logger } from "../telemetry/logger.js";
import type { IdentityObserver } from "../telemetry/metrics.js";
import { createEntraValidator } from "./entra.js";
import { createOidcValidator } from "./oidc.js";
import type { ManagedTokenValidator, TokenValidator } from "./token-validator.js";

export interface IdentityOptions {
  readonly tokenValidator: TokenValidator | undefined;
  /** With a custom validator: the issuers to publish in the resource metadata. */
  readonly authorizationServers: readonly string[] | undefined;
  readonly insecureNoAuth: boolean;
  readonly logger: Logger;
  /** The host's metrics: token-cache lookups and key-set fetches of the built-in validators. */
  readonly observer?: IdentityObserver;
}

/** How this host authenticates, resolved once from configuration and options. */
export interface Identity {
  /** `undefined`: authentication is off (development only). */
  readonly validator: TokenValidator | undefined;
  /** The built-in validators fetch keys: readiness waits for them. */
  readonly managed: ManagedTokenValidator | undefined;
  /** RFC 9728 `authorization_servers`; empty when unknown (no metadata is published then). */
  readonly authorizationServers: readonly string[];
  /** Fully qualified scopes a client requests for basic use. */
  readonly supportedScopes: readonly string[];
  /** Short scope name → the name a client requests. */
  readonly qualify: (scope: string) => string;
  /** Fully qualified scope → the short name tokens carry. */
  readonly shorten: (scope: string) => string;
}

const afterLastSlash = (scope: string): string => scope.slice(scope.lastIndexOf("/") + 1);

/** The `<resource>/` all fully qualified scopes share, when they share one. */
function commonResource(scopes: readonly string[]): string | undefined {
  const prefixes = new Set(
    scopes.filter((scope) => scope.includes("/")).map((scope) => scope.slice(0, scope.lastIndexOf("/") + 1)),
  );
  return prefixes.size === 1 ? [...prefixes][0] : undefined;
}

/**
 * Picks the validator: a custom `tokenValidator`, else `azureAd` (Entra ID), else `oidc`; exactly
 * one, unless `insecureNoAuth` explicitly switches authentication off.
 */
export function resolveIdentity(config: PavedConfig, options: IdentityOptions): Identity {
  const configured = [
    options.tokenValidator !== undefined,
    config.azureAd !== undefined,
    config.oidc !== undefined,
  ].filter(Boolean).length;
  if (options.insecureNoAuth) {
    // `paved dev` points azureAd at its loopback provider for every entry; an entry that opted out of
    // authentication keeps its choice (a loopback authority is never a production one).
    const devProviderOnly =
      options.tokenValidator === undefined &&
      config.oidc === undefined &&
      config.azureAd !== undefined &&
      isLoopbackHostname(new URL(config.azureAd.instance).hostname);
    if (devProviderOnly)
      options.logger.warn(
        "insecureNoAuth: ignoring the development identity provider's azureAd settings; requests are not authenticated",
      );
    if (configured > 0 && !devProviderOnly) {
      throw new PavedError(
        "ERR_HOST_OPTIONS",
        "createMcpHost: insecureNoAuth cannot be combined with a token validator, azureAd or oidc",
      );
    }
    return {
      validator: undefined,
      managed: undefined,
      authorizationServers: [],
      supportedScopes: [],
      qualify: (scope) => scope,
      shorten: (scope) => scope,
    };
  }
  if (configured === 0) {
    throw new PavedError(
      "ERR_HOST_OPTIONS",
      "createMcpHost: no identity configured. Configure azureAd (Entra ID) or oidc, pass tokenValidator, or for local development only insecureNoAuth: true.",
    );
  }
  if (configured > 1) {
    throw new PavedError(
      "ERR_HOST_OPTIONS",
      "createMcpHost: configure one identity: tokenValidator, azureAd or oidc",
    );
  }

  if (options.tokenValidator !== undefined) {
    const scopes = config.server.supportedScopes ?? [];
    const prefix = commonResource(scopes);
    return {
      validator: options.tokenValidator,
      managed: undefined,
      authorizationServers: options.authorizationServers ?? [],
      supportedScopes: scopes,
      qualify: (scope) =>
        scopes.find((full) => afterLastSlash(full) === scope) ??
        (prefix === undefined || scope.includes("/") ? scope : `${prefix}${scope}`),
      shorten: afterLastSlash,
    };
  }

  if (config.azureAd !== undefined) {
    const validator = createEntraValidator(config.azureAd, {
      logger: options.logger,
      ...(options.observer !== undefined && { observer: options.observer }),
    });
    const prefix = `${validator.applicationIdUri}/`;
    return {
      validator,
      managed: validator,
      authorizationServers: [validator.authorizationServer],
      supportedScopes: config.server.supportedScopes ?? [`${prefix}.default`],
      qualify: (scope) => (scope.includes("/") ? scope : `${prefix}${scope}`),
      shorten: afterLastSlash,
    };
  }

  const oidc = config.oidc;
  if (oidc === undefined) throw new PavedError("ERR_HOST_OPTIONS", "createMcpHost: no identity configured");
  const resource =
    config.server.resourceHost === undefined
      ? undefined
      : `${config.server.resourceHost}${config.server.path}`;
  const audiences = oidc.audiences ?? (resource === undefined ? [] : [resource]);
  if (audiences.length === 0) {
    throw new PavedError(
      "ERR_HOST_OPTIONS",
      "createMcpHost: oidc needs audiences, or server.resourceHost to derive the audience from",
    );
  }
  const validator = createOidcValidator(oidc, {
    audiences,
    logger: options.logger,
    ...(options.observer !== undefined && { observer: options.observer }),
  });
  return {
    validator,
    managed: validator,
    authorizationServers: [validator.authorizationServer],
    supportedScopes: config.server.supportedScopes ?? [],
    qualify: (scope) => `${oidc.scopePrefix}${scope}`,
    shorten: (scope) =>
      oidc.scopePrefix !== "" && scope.startsWith(oidc.scopePrefix)
        ? scope.slice(oidc.scopePrefix.length)
        : scope,
  };
}
