import type { PavedConfig } from "../config/schema.js";
import type { EdgeGuardOptions } from "./edge-guard.js";
import type { InboundRequest } from "./exchange.js";
import { LOOPBACK_HOSTNAMES, hostnameOf, isLoopbackHostname } from "./loopback.js";

/** `undefined` means any host (`allowedHosts: ["*"]`). */
function allowedHostsOf(config: PavedConfig): ReadonlySet<string> | undefined {
  const configured = config.server.allowedHosts;
  if (configured?.includes("*")) return undefined;
  if (configured !== undefined) return new Set(configured.map((host) => host.toLowerCase()));
  const hosts = new Set(LOOPBACK_HOSTNAMES);
  if (config.server.resourceHost !== undefined)
    hosts.add(new URL(config.server.resourceHost).hostname.toLowerCase());
  return hosts;
}

/** The edge guard's settings, derived once from the configuration. */
export function edgeGuardOptions(config: PavedConfig): EdgeGuardOptions {
  const { server } = config;
  const resourceHostIsLoopback =
    server.resourceHost === undefined || isLoopbackHostname(new URL(server.resourceHost).hostname);
  return {
    allowedHosts: allowedHostsOf(config),
    allowedOrigins: new Set([
      ...(server.allowedOrigins ?? []).map((origin) => origin.toLowerCase()),
      ...(server.resourceHost === undefined ? [] : [new URL(server.resourceHost).origin.toLowerCase()]),
    ]),
    allowLoopbackOrigins: server.allowedOrigins === undefined && resourceHostIsLoopback,
    stateful: !server.stateless,
    maxBodyBytes: server.maxBodyBytes,
  };
}

/**
 * The public origin of this server for a request: `resourceHost` when configured; otherwise (local
 * development) the origin the client used, provided its Host passes the allow-list.
 */
export function publicOriginResolver(config: PavedConfig): (request: InboundRequest) => string | undefined {
  const fixed =
    config.server.resourceHost === undefined ? undefined : new URL(config.server.resourceHost).origin;
  if (fixed !== undefined) return () => fixed;
  const allowed = allowedHostsOf(config);
  return (request) => {
    const host = request.header("host");
    const name = host === undefined ? undefined : hostnameOf(host);
    if (host === undefined || name === undefined || (allowed !== undefined && !allowed.has(name)))
      return undefined;
    return `http://${host.toLowerCase()}`;
  };
}
