import { randomUUID } from "node:crypto";
import type { Implementation, McpServer } from "@modelcontextprotocol/server";
import { createAuthenticate } from "./auth/authenticate.js";
import type { TokenValidator } from "./auth/token-validator.js";
import { isLoadedConfig, parseConfig } from "./config/load.js";
import type { PavedConfig, PavedConfigInput } from "./config/schema.js";
import { PavedError } from "./errors.js";
import { createEdgeGuard } from "./http/edge-guard.js";
import type { InboundRequest, Reply } from "./http/exchange.js";
import { LOOPBACK_HOSTNAMES, isLoopbackHostname } from "./http/loopback.js";
import { rejection } from "./http/responses.js";
import { createPublicRoutes, type ReadinessCheck } from "./http/routes.js";
import { fromWebRequest } from "./http/web-request.js";
import { toWebResponse } from "./http/web-response.js";
import { authInfoFor, type RequestState } from "./mcp/context.js";
import type { PromptDefinition, ResourceDefinition, ToolDefinition } from "./mcp/definitions.js";
import { MuxTransport } from "./mcp/mux-transport.js";
import { parseMessage, type ParsedMessage } from "./mcp/parse.js";
import { MODERN_PROTOCOL_VERSION, buildMcpServer, type Catalog } from "./mcp/server-builder.js";
import { SessionManager } from "./sessions/session-manager.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { ANONYMOUS } from "./auth/principal.js";

export interface McpHostOptions {
  /** From {@link loadConfig} (file + environment), or plain values in code. Default: all defaults. */
  readonly config?: PavedConfig | PavedConfigInput;
  /** Name and version the server reports to clients. */
  readonly server: Implementation;
  /** Guidance for the model on how to use this server, sent to clients. */
  readonly instructions?: string;
  readonly tools?: readonly ToolDefinition[];
  readonly resources?: readonly ResourceDefinition[];
  readonly prompts?: readonly PromptDefinition[];
  /** Escape hatch: called with every SDK `McpServer` Paved builds, to register anything directly. */
  readonly factory?: (server: McpServer) => void;
  /** Validates bearer tokens. Required unless `insecureNoAuth` is set. */
  readonly tokenValidator?: TokenValidator;
  /**
   * Development only: serve without authentication; every caller is anonymous. `paved start`
   * refuses to serve such a host.
   */
  readonly insecureNoAuth?: boolean;
  /** Extra conditions for `/readyz`. */
  readonly readiness?: readonly ReadinessCheck[];
  /** Where logs go. Default: JSON lines on standard output at `telemetry.logLevel`. */
  readonly logger?: Logger;
}

/** What the CLI and adapters may ask a host about itself. */
export interface HostInfo {
  readonly name: string;
  readonly version: string;
  /** The MCP endpoint path. */
  readonly path: string;
  readonly authentication: "required" | "disabled";
  readonly stateless: boolean;
  readonly config: PavedConfig;
}

/** An MCP server ready to be mounted: `fetch` for any web-standard runtime, `paved-mcp/node` for Node. */
export interface McpHost {
  /** Serves one request. */
  fetch(request: Request, options?: { remoteAddress?: string }): Promise<Response>;
  /** Stops serving: in-flight requests are cancelled, sessions closed. Idempotent. */
  close(): Promise<void>;
  readonly info: HostInfo;
}

/** What the Node adapter needs beyond the public face; not part of the public API. */
export interface HostInternals {
  handle(request: InboundRequest): Promise<Reply>;
  /** Readiness turns false; requests still in flight continue. */
  drain(): void;
  inFlight(): number;
  readonly logger: Logger;
  readonly config: PavedConfig;
}

export const HOST_INTERNALS: unique symbol = Symbol("paved.host");

export function internalsOf(host: McpHost): HostInternals {
  const internals = (host as McpHost & { [HOST_INTERNALS]?: HostInternals })[HOST_INTERNALS];
  if (internals === undefined) throw new PavedError("ERR_HOST_OPTIONS", "Not a host made by createMcpHost");
  return internals;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function requestIdOf(request: InboundRequest): string {
  const given = request.header("x-request-id");
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

function originOf(url: string): string {
  return new URL(url).origin.toLowerCase();
}

function allowedHostsOf(config: PavedConfig): ReadonlySet<string> | undefined {
  const configured = config.server.allowedHosts;
  if (configured?.includes("*")) return undefined;
  if (configured !== undefined) return new Set(configured.map((host) => host.toLowerCase()));
  const hosts = new Set(LOOPBACK_HOSTNAMES);
  if (config.server.resourceHost !== undefined) hosts.add(new URL(config.server.resourceHost).hostname.toLowerCase());
  return hosts;
}

function checkOptions(options: McpHostOptions): void {
  if (typeof options !== "object" || options === null) throw new PavedError("ERR_HOST_OPTIONS", "createMcpHost needs an options object");
  if (typeof options.server?.name !== "string" || typeof options.server.version !== "string") {
    throw new PavedError("ERR_HOST_OPTIONS", "createMcpHost: `server` needs a name and a version");
  }
  if (options.tokenValidator === undefined && options.insecureNoAuth !== true) {
    throw new PavedError(
      "ERR_HOST_OPTIONS",
      "createMcpHost: no identity configured. Pass `tokenValidator`, or for local development only `insecureNoAuth: true`.",
    );
  }
  if (options.tokenValidator !== undefined && options.insecureNoAuth === true) {
    throw new PavedError("ERR_HOST_OPTIONS", "createMcpHost: `tokenValidator` and `insecureNoAuth` exclude each other");
  }
  const seen = new Set<string>();
  for (const [kind, list] of [["tools", options.tools], ["resources", options.resources], ["prompts", options.prompts]] as const) {
    for (const item of list ?? []) {
      const expected = kind.slice(0, -1);
      if ((item as { kind?: unknown }).kind !== expected) {
        throw new PavedError("ERR_HOST_OPTIONS", `createMcpHost: every entry of \`${kind}\` must come from define${expected[0]?.toUpperCase()}${expected.slice(1)}()`);
      }
      const key = `${expected}:${item.name}`;
      if (seen.has(key)) throw new PavedError("ERR_HOST_OPTIONS", `createMcpHost: two ${kind} are named "${item.name}"`);
      seen.add(key);
    }
  }
}

/**
 * Creates the host: validates options once, builds the long-lived SDK servers (one per protocol
 * era) and wires the pipeline stages in their fixed order (docs/pipeline.md).
 *
 * @example
 * const host = createMcpHost({ config: await loadConfig(), server: { name: "weather", version: "1.0.0" }, tools: [getWeather], tokenValidator });
 * await serve(host, { port: 8080 });
 */
export function createMcpHost(options: McpHostOptions): McpHost {
  checkOptions(options);
  const config = isLoadedConfig(options.config) ? options.config : parseConfig(options.config as PavedConfigInput | undefined);
  const server = config.server;
  const logger =
    options.logger ??
    createLogger({ level: config.telemetry.logLevel, serviceName: config.telemetry.serviceName ?? options.server.name });
  const catalog: Catalog = {
    tools: options.tools ?? [],
    resources: options.resources ?? [],
    prompts: options.prompts ?? [],
    factory: options.factory,
  };
  const fallbackState: RequestState = { principal: ANONYMOUS, requestId: "none", logger };
  const build = (era: "modern" | "legacy"): McpServer =>
    buildMcpServer(catalog, { serverInfo: options.server, instructions: options.instructions, era, fallbackState });

  const reportSdkError = (error: Error): void => {
    logger.debug({ err: error }, "MCP protocol error");
  };
  const modern = new MuxTransport({ era: "modern", revision: MODERN_PROTOCOL_VERSION }, server.requestDeadlineMs);
  const legacy = new MuxTransport({ era: "legacy" }, server.requestDeadlineMs);
  const modernServer = build("modern");
  const legacyServer = build("legacy");
  modernServer.server.onerror = reportSdkError;
  legacyServer.server.onerror = reportSdkError;
  // Both transports are synchronous to connect; the promises settle before the first request can arrive.
  const connected = Promise.all([modernServer.connect(modern), legacyServer.connect(legacy)]);
  connected.catch((error: unknown) => logger.error({ err: error }, "connecting the MCP servers failed"));

  const sessions = server.stateless
    ? undefined
    : new SessionManager({ ...server.sessions, newServer: () => build("legacy"), logger });

  const resourceHostIsLoopback = server.resourceHost === undefined || isLoopbackHostname(new URL(server.resourceHost).hostname);
  const edgeGuard = createEdgeGuard({
    allowedHosts: allowedHostsOf(config),
    allowedOrigins: new Set([
      ...(server.allowedOrigins ?? []).map((origin) => origin.toLowerCase()),
      ...(server.resourceHost === undefined ? [] : [originOf(server.resourceHost)]),
    ]),
    allowLoopbackOrigins: server.allowedOrigins === undefined && resourceHostIsLoopback,
    stateful: sessions !== undefined,
    maxBodyBytes: server.maxBodyBytes,
  });
  let draining = false;
  let closed = false;
  const publicRoutes = createPublicRoutes({ checks: options.readiness ?? [], draining: () => draining });
  const authenticate = createAuthenticate({
    validator: options.tokenValidator,
    challengeScopes: [],
    resourceMetadataUrl: undefined,
    logger,
  });

  async function handleMcp(request: InboundRequest, requestId: string): Promise<Reply> {
    const rejected = edgeGuard(request);
    if (rejected !== undefined) return rejected;

    const auth = await authenticate(request);
    if (auth.kind !== "authenticated") return auth;

    let parsed: ParsedMessage | undefined;
    if (request.method === "POST") {
      const body = await request.readBody(server.maxBodyBytes);
      if (!body.ok) {
        return body.reason === "too_large"
          ? rejection(413, "body_too_large", `Payload Too Large: the body must not exceed ${server.maxBodyBytes} bytes`, {
              headers: { connection: "close" },
            })
          : rejection(400, "body_aborted", "Bad Request: the body could not be read");
      }
      const outcome = parseMessage(request, body.text);
      if ("kind" in outcome && (outcome.kind === "body" || outcome.kind === "stream" || outcome.kind === "web")) return outcome;
      parsed = outcome as ParsedMessage;
    }

    const state: RequestState = { principal: auth.validated.principal, requestId, logger };
    const authInfo = authInfoFor(state, auth.token, auth.validated.expiresAt);

    if (sessions !== undefined && parsed?.era !== "modern" && sessions.claims(request, parsed)) {
      return sessions.handle(request, parsed, state.principal, authInfo);
    }
    if (parsed === undefined) {
      return rejection(405, "method_not_allowed", "Method Not Allowed: use POST", { headers: { allow: "POST" } });
    }
    const transport = parsed.era === "modern" ? modern : legacy;
    if (parsed.kind !== "request") return transport.deliver(parsed.message, { authInfo });
    return transport.request(parsed.message, { authInfo }, request.signal);
  }

  async function handle(request: InboundRequest): Promise<Reply> {
    const requestId = requestIdOf(request);
    let reply: Reply;
    if (closed) {
      reply = rejection(503, "shutting_down", "Service Unavailable: the server is shutting down");
    } else if (request.path === server.path) {
      reply = await handleMcp(request, requestId);
    } else {
      reply = (await publicRoutes(request)) ?? rejection(404, "not_found", "Not Found");
    }
    if (reply.kind !== "web") reply.headers["x-request-id"] = requestId;
    return reply;
  }

  const internals: HostInternals = {
    handle,
    drain: () => {
      draining = true;
    },
    inFlight: () => modern.inFlight + legacy.inFlight,
    logger,
    config,
  };

  const host: McpHost & { [HOST_INTERNALS]: HostInternals } = {
    async fetch(request, fetchOptions) {
      return toWebResponse(await handle(fromWebRequest(request, fetchOptions?.remoteAddress)));
    },
    async close() {
      if (closed) return;
      closed = true;
      draining = true;
      await connected.catch(() => undefined);
      await Promise.all([modernServer.close(), legacyServer.close(), sessions?.close()]);
    },
    info: Object.freeze({
      name: options.server.name,
      version: options.server.version,
      path: server.path,
      authentication: options.tokenValidator === undefined ? "disabled" : "required",
      stateless: server.stateless,
      config,
    }),
    [HOST_INTERNALS]: internals,
  };
  return host;
}
