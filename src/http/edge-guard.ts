import type { InboundRequest, Reply } from "./exchange.js";
import { hostnameOf, isLoopbackHostname } from "./loopback.js";
import { rejection } from "./responses.js";

export interface EdgeGuardOptions {
  /** Allowed `Host` names (lower case, no port); `undefined` allows any host. */
  readonly allowedHosts: ReadonlySet<string> | undefined;
  /** Allowed `Origin` values (lower case). */
  readonly allowedOrigins: ReadonlySet<string>;
  /** Also allow any `http(s)://localhost|127.x|[::1]:port` origin (development and loopback deployments). */
  readonly allowLoopbackOrigins: boolean;
  /** Whether GET and DELETE (2025-era session operations) are served. */
  readonly stateful: boolean;
  readonly maxBodyBytes: number;
}

function originAllowed(origin: string, options: EdgeGuardOptions): boolean {
  // An origin is ASCII (RFC 6454 §6.2); `toLowerCase()` would fold U+212A into an allowed "k".
  if (!/^[\x21-\x7e]+$/.test(origin)) return false;
  const value = origin.toLowerCase();
  if (options.allowedOrigins.has(value)) return true;
  if (!options.allowLoopbackOrigins) return false;
  const match = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/.exec(value);
  return match?.[1] !== undefined && isLoopbackHostname(match[1]);
}

function mediaType(value: string | undefined): string | undefined {
  return value?.split(";", 1)[0]?.trim().toLowerCase();
}

/** `Accept` lists `type` itself, `type/*` or `*\/*` (q=0 counts as absent). */
function accepts(accept: string, type: string): boolean {
  const major = `${type.slice(0, type.indexOf("/"))}/*`;
  for (const part of accept.toLowerCase().split(",")) {
    const [range, ...params] = part.split(";").map((item) => item.trim());
    if (range !== type && range !== major && range !== "*/*") continue;
    if (params.some((param) => /^q=0(\.0{0,3})?$/.test(param))) continue;
    return true;
  }
  return false;
}

/**
 * Pipeline stage 2 for the MCP endpoint: Host allow-list and Origin validation (DNS rebinding,
 * MCP transport spec: a present, invalid Origin MUST get 403), then method, media types and the
 * declared body size, all before any body byte or credential is looked at.
 */
export function createEdgeGuard(options: EdgeGuardOptions): (request: InboundRequest) => Reply | undefined {
  const allow = options.stateful ? "GET, POST, DELETE" : "POST";
  // A client sends the same Accept on every request: its verdict is remembered (one entry).
  let lastAccept: string | undefined;
  let lastAcceptOk = false;
  const acceptable = (accept: string): boolean => {
    if (accept !== lastAccept) {
      lastAcceptOk = accepts(accept, "application/json") && accepts(accept, "text/event-stream");
      lastAccept = accept;
    }
    return lastAcceptOk;
  };
  return function edgeGuard(request) {
    if (options.allowedHosts !== undefined) {
      const host = request.header("host");
      const name = host === undefined ? undefined : hostnameOf(host);
      if (name === undefined || !options.allowedHosts.has(name)) {
        return rejection(403, "host_not_allowed", "Forbidden: the Host header is not an allowed host name");
      }
    }
    const origin = request.header("origin");
    if (origin !== undefined && !originAllowed(origin, options)) {
      return rejection(403, "origin_not_allowed", "Forbidden: the Origin is not allowed");
    }

    const method = request.method;
    if (method === "POST") {
      if (mediaType(request.header("content-type")) !== "application/json") {
        return rejection(
          415,
          "unsupported_media_type",
          "Unsupported Media Type: Content-Type must be application/json",
        );
      }
      const accept = request.header("accept") ?? "";
      if (!acceptable(accept)) {
        return rejection(
          406,
          "not_acceptable",
          "Not Acceptable: Accept must list application/json and text/event-stream",
        );
      }
      const length = request.header("content-length");
      if (length !== undefined && Number(length) > options.maxBodyBytes) {
        return rejection(
          413,
          "body_too_large",
          `Payload Too Large: the body must not exceed ${options.maxBodyBytes} bytes`,
        );
      }
      return undefined;
    }
    if (options.stateful && (method === "GET" || method === "DELETE")) {
      if (method === "GET" && !accepts(request.header("accept") ?? "", "text/event-stream")) {
        return rejection(406, "not_acceptable", "Not Acceptable: Accept must list text/event-stream");
      }
      return undefined;
    }
    return rejection(405, "method_not_allowed", `Method Not Allowed: use ${allow}`, { headers: { allow } });
  };
}
