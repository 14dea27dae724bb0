import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { InboundRequest } from "../http/exchange.js";

/** What became of a forwarded request. */
export type ForwardOutcome =
  /** The owner answered: its status, headers and (streamed) body, to pass on as they are. */
  | { readonly kind: "answered"; readonly response: Response }
  /** Nothing listens there any more (refused, unreachable, no connection in time): the owner is gone. */
  | { readonly kind: "unreachable"; readonly code: string }
  /** The connection broke before an answer: the owner may still be there. */
  | { readonly kind: "failed"; readonly code: string };

export interface ForwardRequest {
  /** The owning replica's base URL (`server.replicaUrl`). */
  readonly target: string;
  readonly request: InboundRequest;
  /** The body the pipeline already read and parsed (POST), serialized again. */
  readonly body: string | undefined;
  /** Headers to set on top of the client's (the forwarding mark, the request id). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Headers that describe one connection (RFC 9110 §7.6.1) or are recomputed for the next hop. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "content-length",
]);

/** Errors meaning nothing answers at that address: the replica stopped, or its address is stale. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
]);

/** Statuses whose answers have no body (the web `Response` refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

function responseOf(upstream: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const status = upstream.statusCode ?? 502;
  if (NO_BODY.has(status)) {
    upstream.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(upstream) as ReadableStream<Uint8Array>, { status, headers });
}

/**
 * Sends a request on to the replica that owns its session, over plain `node:http(s)` (web `fetch`
 * cannot keep the client's `Host`, which the owner's Host allow-list checks). The answer streams
 * back as it comes, SSE included; the client going away closes the upstream request. Each forward
 * uses a fresh connection, so a keep-alive race never reads as a vanished owner.
 */
export function createForwarder(options: { readonly connectTimeoutMs: number }) {
  const agents = { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent({ keepAlive: false }) };

  return function forward(forwarded: ForwardRequest): Promise<ForwardOutcome> {
    const { request } = forwarded;
    const target = new URL(request.path + request.search, forwarded.target);
    const secure = target.protocol === "https:";
    const headers: Record<string, string> = {};
    request.toWebRequest().headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    });
    // X-Forwarded-For passes unchanged: its last entry stays the client address the load balancer
    // saw, which is what the owner reads with `server.trustProxy`.
    Object.assign(headers, forwarded.headers);
    if (forwarded.body !== undefined) headers["content-length"] = String(Buffer.byteLength(forwarded.body));

    return new Promise<ForwardOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: ForwardOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        resolve(outcome);
      };
      const outgoing = (secure ? httpsRequest : httpRequest)(target, {
        method: request.method,
        headers,
        agent: secure ? agents.https : agents.http,
      });
      const connectTimer = setTimeout(() => {
        outgoing.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
      }, options.connectTimeoutMs);
      connectTimer.unref();
      outgoing.once("socket", (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once("connect", () => clearTimeout(connectTimer));
      });
      outgoing.once("response", (upstream) => {
        settle({ kind: "answered", response: responseOf(upstream) });
      });
      outgoing.on("error", (error: NodeJS.ErrnoException) => {
        const code = error.code ?? "EUNKNOWN";
        settle(UNREACHABLE.has(code) ? { kind: "unreachable", code } : { kind: "failed", code });
      });
      const abandon = (): void => {
        outgoing.destroy();
      };
      if (request.signal.aborted) abandon();
      else request.signal.addEventListener("abort", abandon, { once: true });
      outgoing.end(forwarded.body);
    });
  };
}

export type Forwarder = ReturnType<typeof createForwarder>;
