import type { IncomingMessage, ServerResponse } from "node:http";
import type { BodyResult, InboundRequest } from "../http/exchange.js";

/**
 * `InboundRequest` straight over Node's request: headers read in place, the body read once into a
 * string, the abort signal made only when someone asks for it. No web-stream conversion.
 */
export class NodeInboundRequest implements InboundRequest {
  readonly method: string;
  readonly path: string;
  readonly search: string;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private controller: AbortController | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.req = req;
    this.res = res;
    this.method = req.method ?? "GET";
    let url = req.url ?? "/";
    if (!url.startsWith("/")) {
      // absolute-form request target (RFC 9112 §3.2.2): keep only path and query
      try {
        const parsed = new URL(url);
        url = parsed.pathname + parsed.search;
      } catch {
        url = "/";
      }
    }
    const query = url.indexOf("?");
    this.path = query < 0 ? url : url.slice(0, query);
    this.search = query < 0 ? "" : url.slice(query);
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  }

  headerValues(name: string): readonly string[] {
    // A scan of the raw pairs: `headersDistinct` would build arrays for every header of the request.
    const raw = this.req.rawHeaders;
    const values: string[] = [];
    for (let index = 0; index + 1 < raw.length; index += 2)
      if ((raw[index] as string).toLowerCase() === name) values.push(raw[index + 1] as string);
    return values;
  }

  get scheme(): string {
    return "encrypted" in this.req.socket && this.req.socket.encrypted === true ? "https" : "http";
  }

  get remoteAddress(): string {
    return this.req.socket.remoteAddress ?? "";
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      this.onClientGone(() => {
        controller.abort();
      });
    }
    return this.controller.signal;
  }

  onClientGone(listener: () => void): void {
    const res = this.res;
    if (res.closed) {
      if (!res.writableFinished) listener();
      return;
    }
    res.once("close", () => {
      if (!res.writableFinished) listener();
    });
  }

  readBody(maxBytes: number): Promise<BodyResult> {
    const req = this.req;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > maxBytes) {
          cleanup();
          req.pause();
          resolve({ ok: false, reason: "too_large" });
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        cleanup();
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
        resolve({ ok: true, text: body.toString("utf8") });
      };
      const onAbort = (): void => {
        cleanup();
        resolve({ ok: false, reason: "aborted" });
      };
      const cleanup = (): void => {
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", onAbort);
        req.off("aborted", onAbort);
      };
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("error", onAbort);
      req.on("aborted", onAbort);
    });
  }

  toWebRequest(headers?: Readonly<Record<string, string>>): Request {
    const merged = new Headers();
    const raw = this.req.rawHeaders;
    for (let index = 0; index + 1 < raw.length; index += 2)
      merged.append(raw[index] as string, raw[index + 1] as string);
    for (const [name, value] of Object.entries(headers ?? {})) merged.set(name, value);
    const host = this.header("host") ?? "localhost";
    return new Request(`http://${host}${this.path}${this.search}`, {
      method: this.method,
      headers: merged,
      signal: this.signal,
    });
  }
}
