import type { ServerResponse } from "node:http";
import type { Reply } from "../http/exchange.js";
import { SECURITY_HEADERS } from "../http/security-headers.js";
import { webReplyHeaders } from "../http/web-response.js";

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) describe one connection, and Node manages ours: the SDK's
 * `Connection: keep-alive` on SSE answers would otherwise override a client's `Connection: close`
 * and the `shouldKeepAlive = false` that `serve()` sets while draining.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

async function pipeWeb(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  });
  Object.assign(headers, webReplyHeaders(response.headers.get("content-type")));
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once("close", () => {
    reader.cancel().catch(() => undefined);
  });
  res.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // the client went away or the SDK closed the stream: nothing more to send
  }
  res.end();
}

/** Writes a reply to Node's response: in-memory bodies with an exact Content-Length, streams as they come. */
export function writeReply(reply: Reply, res: ServerResponse): Promise<void> | undefined {
  if (reply.kind === "web") return pipeWeb(reply.response, res);
  const headers: Record<string, string | number> = { ...SECURITY_HEADERS, ...reply.headers };
  if (reply.kind === "body") {
    if (reply.body === null) {
      res.writeHead(reply.status, headers).end();
    } else {
      headers["content-length"] = Buffer.byteLength(reply.body);
      res.writeHead(reply.status, headers).end(reply.body);
    }
    return undefined;
  }
  res.writeHead(reply.status, headers);
  res.flushHeaders();
  const stream = reply.stream;
  res.once("close", () => {
    if (!res.writableFinished) stream.cancel();
  });
  stream.attach({
    write: (chunk) => {
      res.write(chunk);
    },
    end: () => {
      res.end();
    },
  });
  return undefined;
}
