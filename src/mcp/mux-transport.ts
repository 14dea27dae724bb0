import {
  PerRequestHTTPServerTransport,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type MessageClassification,
  type MessageExtraInfo,
  type RequestId,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";
import { ReplyStream, type ClientLink, type Reply } from "../http/exchange.js";
import { emptyReply, jsonReply } from "../http/responses.js";
import type { OperationObserver } from "../telemetry/operation.js";

/** The SDK's JSON-RPC code for a request that timed out. */
const REQUEST_TIMEOUT = -32001;

const SSE_HEADERS = Object.freeze({
  "content-type": "text/event-stream",
  "cache-control": "no-store, no-transform",
  "x-accel-buffering": "no",
});

/** Rewrites a JSON-RPC response's id: the SDK saw ours, the client must see its own. */
export type ResponseFilter = (method: string, result: Record<string, unknown>) => Record<string, unknown>;

/** The abort signal of a call Paved answers itself: made only when the handler asks for it. */
export class Cancellation {
  private controller: AbortController | undefined;
  private reason: string | undefined;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** A request Paved answers itself: its result, or `undefined` to hand it to the SDK (nothing sent yet). */
export type DirectRun = (cancellation: Cancellation) => Promise<Record<string, unknown> | undefined>;

class Exchange {
  stream: ReplyStream | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly clientId: RequestId,
    readonly method: string,
    readonly resolve: (reply: Reply) => void,
    readonly filter: ResponseFilter | undefined,
    readonly observer: OperationObserver | undefined,
    /** Set when Paved answers the request itself (the SDK never saw it). */
    readonly cancellation?: Cancellation,
  ) {}
}

function frame(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/**
 * Serves every concurrent HTTP request of one protocol era through ONE long-lived SDK server. Each
 * inbound request gets a process-unique JSON-RPC id before the SDK sees it (clients' ids collide),
 * and the answer goes back to its own HTTP exchange under the client's id. The answer is plain JSON
 * unless the handler sends a related notification first (progress), which upgrades the exchange to
 * SSE, as the SDK's per-request transport does.
 *
 * It extends the SDK's `PerRequestHTTPServerTransport` only so that `Server.connect` binds the
 * instance to the modern revision named by the classification (the SDK's public route to a modern
 * instance); every transport method is its own.
 */
export class MuxTransport extends PerRequestHTTPServerTransport {
  private readonly exchanges = new Map<number, Exchange>();
  private readonly classification: MessageClassification;
  private readonly deadlineMs: number;
  private nextId = 0;
  private closed = false;

  constructor(classification: MessageClassification, deadlineMs: number) {
    super({ classification });
    this.classification = classification;
    this.deadlineMs = deadlineMs;
  }

  override start(): Promise<void> {
    return Promise.resolve();
  }

  /** Requests in flight, for draining on shutdown. */
  get inFlight(): number {
    return this.exchanges.size;
  }

  /** A notification or a posted JSON-RPC response: delivered, answered 202 at once. */
  deliver(message: JSONRPCMessage, extra: MessageExtraInfo): Reply {
    this.onmessage?.(message, { ...extra, classification: this.classification });
    return emptyReply(202);
  }

  /** A request: resolves with its reply once the SDK answers (JSON) or first streams (SSE). */
  request(
    message: JSONRPCRequest,
    extra: MessageExtraInfo,
    client: ClientLink,
    filter?: ResponseFilter,
    observer?: OperationObserver,
  ): Promise<Reply> {
    if (this.closed) {
      observer?.abandon("shutdown");
      return Promise.resolve(jsonReply(503, errorBody(message.id, -32000, "The server is shutting down")));
    }
    return new Promise<Reply>((resolve) => {
      const exchange = new Exchange(message.id, message.method, resolve, filter, observer);
      const id = this.open(exchange, client);
      if (id === undefined) return;
      this.onmessage?.({ ...message, id }, { ...extra, classification: this.classification });
    });
  }

  /**
   * A request Paved answers itself (a direct tool call), under the same deadline, disconnect and
   * shutdown rules as the SDK's; handed to the SDK when `run` resolves `undefined`.
   */
  direct(
    message: JSONRPCRequest,
    extra: MessageExtraInfo,
    client: ClientLink,
    observer: OperationObserver | undefined,
    run: DirectRun,
  ): Promise<Reply> {
    if (this.closed) return this.request(message, extra, client, undefined, observer);
    return new Promise<Reply>((resolve) => {
      const cancellation = new Cancellation();
      const exchange = new Exchange(message.id, message.method, resolve, undefined, observer, cancellation);
      const id = this.open(exchange, client);
      if (id === undefined) return;
      run(cancellation).then(
        (result) => {
          if (this.exchanges.get(id) !== exchange) return;
          if (result === undefined) {
            this.finish(id, exchange);
            resolve(this.request(message, extra, client, undefined, observer));
          } else this.answer(id, exchange, { result, jsonrpc: "2.0", id });
        },
        () => {
          // Not expected (a direct call turns its handler's failures into results): the client
          // learns nothing internal, and the exchange does not wait for its deadline.
          if (this.exchanges.get(id) === exchange)
            this.answer(id, exchange, errorBody(id, -32603, "Internal error"));
        },
      );
    });
  }

  /** Registers an exchange under a process-unique id, with its deadline; `undefined` when the client already left. */
  private open(exchange: Exchange, client: ClientLink): number | undefined {
    const id = ++this.nextId;
    this.exchanges.set(id, exchange);
    exchange.timer = setTimeout(() => {
      this.abandon(id, "deadline");
    }, this.deadlineMs);
    exchange.timer.unref();
    let gone = false;
    client.onClientGone(() => {
      gone = true;
      this.abandon(id, "disconnect");
    });
    return gone ? undefined : id;
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isResponse = "result" in message || "error" in message;
    const id = isResponse ? (message as { id: RequestId }).id : options?.relatedRequestId;
    const exchange = typeof id === "number" ? this.exchanges.get(id) : undefined;
    if (exchange === undefined || id === undefined) return Promise.resolve();
    if (!isResponse) {
      // Related traffic (progress, logs, and in 2025-era stateless mode server-to-client requests)
      // turns the exchange into an SSE stream.
      this.streamOf(exchange, id as number).write(frame(message));
      return Promise.resolve();
    }
    this.answer(id as number, exchange, message);
    return Promise.resolve();
  }

  /** The response to an exchange, under the client's own id. */
  private answer(id: number, exchange: Exchange, message: Record<string, unknown>): void {
    this.finish(id, exchange);
    let response: Record<string, unknown> = { ...message, id: exchange.clientId };
    const result = response["result"];
    if (exchange.filter !== undefined && typeof result === "object" && result !== null) {
      response = { ...response, result: exchange.filter(exchange.method, result as Record<string, unknown>) };
    }
    exchange.observer?.finish(response);
    if (exchange.stream === undefined) {
      exchange.resolve(jsonReply(200, response));
    } else {
      exchange.stream.write(frame(response));
      exchange.stream.end();
    }
  }

  override close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.exchanges.keys()]) this.abandon(id, "shutdown");
    this.onclose?.();
    return Promise.resolve();
  }

  private streamOf(exchange: Exchange, id: number): ReplyStream {
    if (exchange.stream === undefined) {
      const stream = new ReplyStream(() => {
        this.abandon(id, "disconnect");
      });
      exchange.stream = stream;
      exchange.resolve({ kind: "stream", status: 200, headers: { ...SSE_HEADERS }, stream });
    }
    return exchange.stream;
  }

  private finish(id: number, exchange: Exchange): void {
    this.exchanges.delete(id);
    if (exchange.timer !== undefined) clearTimeout(exchange.timer);
  }

  /** The client left, the deadline passed or the server is stopping: cancel the handler and answer if still possible. */
  private abandon(id: number, why: "deadline" | "disconnect" | "shutdown"): void {
    const exchange = this.exchanges.get(id);
    if (exchange === undefined) return;
    const wasStreaming = exchange.stream !== undefined;
    this.finish(id, exchange);
    exchange.observer?.abandon(why);
    if (exchange.cancellation !== undefined) exchange.cancellation.abort(why);
    else {
      const cancel: JSONRPCNotification = {
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: id, reason: why },
      };
      this.onmessage?.(cancel, { classification: this.classification });
    }
    if (why === "disconnect") {
      exchange.stream?.end();
      if (!wasStreaming) exchange.resolve(emptyReply(499));
      return;
    }
    const body =
      why === "deadline"
        ? errorBody(exchange.clientId, REQUEST_TIMEOUT, `Request timed out after ${this.deadlineMs} ms`)
        : errorBody(exchange.clientId, -32000, "The server is shutting down");
    if (wasStreaming) {
      exchange.stream?.write(frame(body));
      exchange.stream?.end();
    } else {
      exchange.resolve(jsonReply(why === "deadline" ? 200 : 503, body));
    }
  }
}

function errorBody(id: RequestId, code: number, message: string): Record<string, unknown> {
  return { jsonrpc: "2.0", id, error: { code, message } };
}
