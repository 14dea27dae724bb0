import type { Reply } from "./exchange.js";
import { SECURITY_HEADERS } from "./security-headers.js";

/** Security headers for an SDK-built answer; streams keep `no-transform` so proxies do not buffer them. */
export function webReplyHeaders(contentType: string | null): Record<string, string> {
  return contentType?.startsWith("text/event-stream") === true
    ? { ...SECURITY_HEADERS, "cache-control": "no-store, no-transform" }
    : { ...SECURITY_HEADERS };
}

/** Turns a reply into a web `Response`, security headers first so a reply cannot drop them. */
export function toWebResponse(reply: Reply): Response {
  if (reply.kind === "web") {
    const headers = new Headers(reply.response.headers);
    for (const [name, value] of Object.entries(webReplyHeaders(headers.get("content-type"))))
      headers.set(name, value);
    return new Response(reply.response.body, { status: reply.response.status, headers });
  }
  const headers = { ...SECURITY_HEADERS, ...reply.headers };
  if (reply.kind === "body") return new Response(reply.body, { status: reply.status, headers });
  const encoder = new TextEncoder();
  const source = reply.stream;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      source.attach({
        write: (chunk) => {
          controller.enqueue(encoder.encode(chunk));
        },
        end: () => {
          controller.close();
        },
      });
    },
    cancel() {
      source.cancel();
    },
  });
  return new Response(body, { status: reply.status, headers });
}
