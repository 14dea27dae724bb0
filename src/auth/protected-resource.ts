import type { InboundRequest, Reply } from "../http/exchange.js";
import { emptyReply, jsonReply, rejection } from "../http/responses.js";

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

export interface ProtectedResourceOptions {
  /** The MCP endpoint's path, e.g. `/mcp`. */
  readonly path: string;
  /** Issuer identifiers of the authorization servers clients should use (RFC 9728 `authorization_servers`). */
  readonly authorizationServers: readonly string[];
  /** Fully qualified scopes a client needs for basic use (`scopes_supported`); omitted when empty. */
  readonly scopesSupported: readonly string[];
  /** Human-readable name (`resource_name`). */
  readonly resourceName: string;
}

/** The MCP endpoint's public URL: `resourceHost` + path, exactly as clients must use it (PRM-02). */
export function resourceUrl(origin: string, path: string): string {
  return `${origin}${path}`;
}

/** Where the path-suffixed metadata document lives for a resource (RFC 9728 §3.1). */
export function metadataUrl(origin: string, path: string): string {
  return `${origin}${WELL_KNOWN}${path === "/" ? "" : path}`;
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, OPTIONS",
  "access-control-allow-headers": "mcp-protocol-version, authorization",
  "access-control-max-age": "86400",
};

/**
 * RFC 9728 Protected Resource Metadata: public, CORS-readable, never refused over credentials or
 * `MCP-Protocol-Version` (PRM-09). The path-suffixed document describes the MCP endpoint; the root
 * form describes the origin itself (its `resource` is the origin, RFC 9728 §3.3), for clients that
 * fall back to it. `undefined` when the request is for another path.
 */
export function createProtectedResourceRoute(
  options: ProtectedResourceOptions,
  originOf: (request: InboundRequest) => string | undefined,
): (request: InboundRequest) => Reply | undefined {
  const suffixed = metadataUrl("", options.path);
  return function protectedResourceMetadata(request) {
    const isSuffixed = request.path === suffixed;
    if (!isSuffixed && request.path !== WELL_KNOWN) return undefined;
    if (request.method === "OPTIONS") return emptyReply(204, { ...CORS });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return rejection(405, "method_not_allowed", "Method Not Allowed: use GET", {
        headers: { allow: "GET, HEAD, OPTIONS", ...CORS },
      });
    }
    const origin = originOf(request);
    if (origin === undefined)
      return rejection(403, "host_not_allowed", "Forbidden: the Host header is not an allowed host name", {
        headers: { ...CORS },
      });
    // RFC 9728 §3.2: parameters with zero values are omitted.
    const document: Record<string, unknown> = {
      resource: isSuffixed ? resourceUrl(origin, options.path) : origin,
      authorization_servers: [...options.authorizationServers],
      ...(options.scopesSupported.length > 0 && { scopes_supported: [...options.scopesSupported] }),
      bearer_methods_supported: ["header"],
      ...(options.resourceName !== "" && { resource_name: options.resourceName }),
    };
    return jsonReply(200, document, { ...CORS, "cache-control": "public, max-age=3600" });
  };
}
