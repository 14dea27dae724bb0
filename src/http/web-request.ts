import type { BodyResult, InboundRequest } from "./exchange.js";

async function readLimited(request: Request, maxBytes: number): Promise<BodyResult> {
  if (request.body === null) return { ok: true, text: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        return { ok: false, reason: "too_large" };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: "aborted" };
  }
  return { ok: true, text: Buffer.concat(chunks).toString("utf8") };
}

/** The fetch-runtime view of a request (Workers, Deno, Bun, tests). */
export function fromWebRequest(request: Request, remoteAddress = ""): InboundRequest {
  const url = new URL(request.url);
  return {
    method: request.method.toUpperCase(),
    path: url.pathname,
    search: url.search,
    scheme: url.protocol.slice(0, -1),
    header: (name) => request.headers.get(name) ?? (name === "host" ? url.host : undefined),
    headerValues: (name) => {
      const value = request.headers.get(name);
      return value === null ? [] : [value];
    },
    remoteAddress,
    readBody: (maxBytes) => readLimited(request, maxBytes),
    signal: request.signal,
    onClientGone: (listener) => {
      if (request.signal.aborted) listener();
      else request.signal.addEventListener("abort", listener, { once: true });
    },
    toWebRequest: (headers) => {
      if (headers === undefined) return request;
      const merged = new Headers(request.headers);
      for (const [name, value] of Object.entries(headers)) merged.set(name, value);
      return new Request(request.url, { method: request.method, headers: merged, signal: request.signal });
    },
  };
}
