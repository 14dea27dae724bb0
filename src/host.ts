import type { McpServer } from "@modelcontextprotocol/server";
import { createAuthenticate } from "./auth/authenticate.js";
import {
  createAuthorize,
  filterListResult,
  type AccessRule,
  type AuthorizeOptions,
} from "./auth/authorize.js";
import { resolveIdentity } from "./auth/identity.js";
import { createProtectedResourceRoute, metadataUrl } from "./auth/protected-resource.js";
import { isLoadedConfig, parseConfig } from "./config/load.js";
import { withClaimsChallenges } from "./downstream/challenge.js";
import { createDownstreamServices } from "./downstream/index.js";
import { createEdgeGuard } from "./http/edge-guard.js";
import { createMetricsRoute, METRICS_PATH, type MetricsSource } from "./http/metrics-route.js";
import { edgeGuardOptions, publicOriginResolver } from "./http/edge-options.js";
import { createPublicRoutes } from "./http/routes.js";
import { fromWebRequest } from "./http/web-request.js";
import { toWebResponse } from "./http/web-response.js";
import { HOST_INTERNALS, type HostInternals } from "./host-internals.js";
import { checkOptions, type McpHost, type McpHostOptions } from "./host-options.js";

import type { AccessRequirements } from "./mcp/definitions.js";
import { DirectToolCalls } from "./mcp/direct-call.js";
import { Dispatcher } from "./mcp/dispatcher.js";
import { buildMcpServer, type Catalog } from "./mcp/server-builder.js";
import { createPipeline } from "./pipeline.js";
import { createRateLimits } from "./rate-limit/setup.js";
import { SessionManager } from "./sessions/session-manager.js";
import { createScaleOut } from "./sessions/setup.js";
import { createAuditLog } from "./telemetry/audit.js";
import { createAuditLogger, createLogger } from "./telemetry/logger.js";
import { RequestScope } from "./telemetry/request-scope.js";
import { createTelemetry } from "./telemetry/telemetry.js";

export type { HostInfo, McpHost, McpHostOptions, RejectionEvent, RequestInfo } from "./host-options.js";

function rules<T extends AccessRequirements>(
  items: readonly T[],
  key: (item: T) => string | undefined,
): Map<string, AccessRule> {
  const map = new Map<string, AccessRule>();
  for (const item of items) {
    const id = key(item);
    if (id !== undefined) map.set(id, item);
  }
  return map;
}

/**
 * Creates the host: validates options once, resolves the identity provider, builds the long-lived
 * SDK servers (one per protocol era) and wires the pipeline stages in their fixed order
 * (docs/pipeline.md). Nothing here runs per request.
 *
 * @example
 * const host = createMcpHost({ config: await loadConfig(), server: { name: "weather", version: "1.0.0" }, tools: [getWeather] });
 * await serve(host, { port: 8080 });
 */
export function createMcpHost(options: McpHostOptions): McpHost {
  checkOptions(options);
  const config = isLoadedConfig(options.config) ? options.config : parseConfig(options.config);
  const { server } = config;
  const logger =
    options.logger ??
    createLogger({
      level: config.telemetry.logLevel,
      serviceName: config.telemetry.serviceName ?? options.server.name,
    });
  const serviceName = config.telemetry.serviceName ?? options.server.name;
  const auditLogger =
    options.auditLogger ?? createAuditLogger(config.telemetry.auditLog, { log: logger, serviceName });
  const wellKnown = "/.well-known/oauth-protected-resource";
  const telemetry = createTelemetry({
    logger,
    audit: auditLogger === undefined ? undefined : createAuditLog(auditLogger),
    tools: new Set((options.tools ?? []).map((tool) => tool.name)),
    prompts: new Set((options.prompts ?? []).map((prompt) => prompt.name)),
    routes: new Set([
      server.path,
      "/healthz",
      "/readyz",
      METRICS_PATH,
      wellKnown,
      `${wellKnown}${server.path === "/" ? "" : server.path}`,
    ]),
    captureContent: config.telemetry.captureContent,
  });
  const identity = resolveIdentity(config, {
    tokenValidator: options.tokenValidator,
    authorizationServers: options.authorizationServers,
    insecureNoAuth: options.insecureNoAuth === true,
    logger,
    observer: telemetry.metrics,
  });

  const catalog: Catalog = {
    tools: options.tools ?? [],
    resources: options.resources ?? [],
    prompts: options.prompts ?? [],
    factory: options.factory,
  };
  const fallbackState = new RequestScope("none", logger);
  const downstream = createDownstreamServices(config, { logger });
  const scaleOut = createScaleOut(config, { registry: options.sessionRegistry, logger });
  const build = (era: "modern" | "legacy"): McpServer =>
    buildMcpServer(catalog, {
      serverInfo: options.server,
      instructions: options.instructions,
      era,
      fallbackState,
      requestState: scaleOut.requestState,
      downstream,
    });

  const originOf = publicOriginResolver(config);
  const resourceMetadataUrl =
    identity.authorizationServers.length === 0
      ? () => undefined
      : (request: Parameters<typeof originOf>[0]) => {
          const origin = originOf(request);
          return origin === undefined ? undefined : metadataUrl(origin, server.path);
        };
  const authorization: AuthorizeOptions = {
    endpointScopes:
      identity.validator === undefined
        ? []
        : identity.supportedScopes.map(identity.shorten).filter((scope) => scope !== ".default"),
    endpointPolicy: options.authorize,
    tools: rules(catalog.tools, (tool) => tool.name),
    prompts: rules(catalog.prompts, (prompt) => prompt.name),
    resources: rules(catalog.resources, (resource) =>
      typeof resource.uri === "string" ? resource.uri : undefined,
    ),
    qualify: identity.qualify,
    resourceMetadataUrl,
  };
  const unrestricted = identity.validator === undefined;
  const dispatcher = new Dispatcher(
    build,
    new DirectToolCalls(catalog.tools, options.server, downstream),
    server.requestDeadlineMs,
    (principal, method, result) =>
      unrestricted ? result : filterListResult(authorization, principal, method, result),
    logger,
    telemetry.operations,
  );
  const sessions =
    scaleOut.sessions === undefined
      ? undefined
      : new SessionManager({
          ...server.sessions,
          ...scaleOut.sessions,
          newServer: () => build("legacy"),
          logger,
          telemetry,
          filter: unrestricted
            ? undefined
            : (principal, method, result) => filterListResult(authorization, principal, method, result),
        });

  const everything: readonly AccessRequirements[] = [
    ...catalog.tools,
    ...catalog.prompts,
    ...catalog.resources,
  ];
  const declared = (pick: (item: AccessRequirements) => readonly string[] | undefined): readonly string[] =>
    Object.freeze([...new Set(everything.flatMap((item) => pick(item) ?? []))]);

  let draining = false;
  let metricsSource: MetricsSource | undefined;
  let stopped = false;
  const readiness = [...(options.readiness ?? [])];
  const rateLimits = createRateLimits(config, {
    store: options.rateLimitStore,
    tools: catalog.tools,
    authenticated: identity.validator !== undefined,
    logger,
  });
  if (rateLimits.readiness !== undefined) readiness.push(rateLimits.readiness);
  if (scaleOut.readiness !== undefined) readiness.push(scaleOut.readiness);
  const managed = identity.managed;
  if (managed !== undefined) readiness.unshift({ name: "identity", check: () => managed.ready() });

  const handle = createPipeline({
    mcpPath: server.path,
    maxBodyBytes: server.maxBodyBytes,
    logger,
    telemetry,
    edgeGuard: createEdgeGuard(edgeGuardOptions(config)),
    preAuthLimit: rateLimits.stages.preAuth,
    publicRoutes: [
      ...(identity.authorizationServers.length === 0
        ? []
        : [
            createProtectedResourceRoute(
              {
                path: server.path,
                authorizationServers: identity.authorizationServers,
                scopesSupported: identity.supportedScopes,
                resourceName: options.server.title ?? options.server.name,
              },
              originOf,
            ),
          ]),
      createPublicRoutes({ checks: readiness, draining: () => draining }),
      ...(config.telemetry.prometheus ? [createMetricsRoute(() => metricsSource)] : []),
    ],
    authenticate: createAuthenticate({
      validator: identity.validator,
      challengeScopes: identity.supportedScopes,
      resourceMetadataUrl,
    }),
    onAuthenticated: options.onAuthenticated,
    rateLimit: rateLimits.stages.perCaller,
    authorize: unrestricted ? () => undefined : createAuthorize(authorization),
    sessions,
    dispatch:
      typeof downstream.provider === "string"
        ? (parsed, authInfo, state, client) => dispatcher.dispatch(parsed, authInfo, state, client)
        : withClaimsChallenges(
            (parsed, authInfo, state, client) => dispatcher.dispatch(parsed, authInfo, state, client),
            (request) => resourceMetadataUrl(request),
          ),
    onRejected: options.onRejected,
    stopped: () => stopped,
  });

  let starting: Promise<void> | undefined;
  const internals: HostInternals = {
    handle,
    drain: () => {
      draining = true;
    },
    start: () => {
      starting ??= (managed?.start() ?? Promise.resolve()).catch((error: unknown) => {
        logger.warn(
          { err: error },
          "identity provider not reachable yet; retrying in the background (/readyz stays unready)",
        );
      });
      return starting;
    },
    logger,
    config,
    telemetry,
    listening: scaleOut.listening,
    exposeMetrics(source) {
      metricsSource = source;
    },
  };
  void internals.start();

  const host: McpHost & { [HOST_INTERNALS]: HostInternals } = {
    async fetch(request, fetchOptions) {
      return toWebResponse(await handle(fromWebRequest(request, fetchOptions?.remoteAddress)));
    },
    async close() {
      if (stopped) return;
      stopped = true;
      draining = true;
      managed?.close();
      await Promise.all([dispatcher.close(), sessions?.close(), rateLimits.close()]);
      await scaleOut.close();
    },
    info: Object.freeze({
      name: options.server.name,
      version: options.server.version,
      path: server.path,
      authentication: identity.validator === undefined ? "disabled" : "required",
      stateless: server.stateless,
      scopes: declared((item) => item.scopes),
      roles: declared((item) => item.roles),
      config,
    }),
    [HOST_INTERNALS]: internals,
  };
  return host;
}
