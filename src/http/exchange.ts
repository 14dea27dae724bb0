import type { AccessRuleKind } from "../telemetry/audit.js";

/**
 * The runtime-neutral view of one HTTP exchange. The Node adapter implements it straight over
 * `IncomingMessage` (no web-stream conversion on the hot path); the fetch adapter over `Request`.
 */
export type BodyResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: "too_large" | "aborted" };

export interface InboundRequest {
  /** Upper-case method. */
  readonly method: string;
  /** Path without query, exactly as sent. */
  readonly path: string;
  /** `""` or the query including its leading `?`. */
  readonly search: string;
  /** `http` or `https`, as this hop received it (for telemetry). */
  readonly scheme: string;
  /** A header by lower-case name; repeated headers joined with `, `. */
  header(name: string): string | undefined;
  /** Every occurrence of a header, for the checks where a repeat is an attack (Authorization). */
  headerValues(name: string): readonly string[];
  /** The peer's address, before any proxy header is considered. */
  readonly remoteAddress: string;
  /** Reads the body as UTF-8, stopping at `maxBytes`. May be called once. */
  readBody(maxBytes: number): Promise<BodyResult>;
  /** Aborts when the client goes away before the answer is complete. */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once when the client goes away before the answer is complete (at once if it
   * already has). What the dispatcher uses: on Node it costs one listener, where `signal` costs an
   * `AbortController` per request.
   */
  onClientGone(listener: () => void): void;
  /**
   * The web-standard form, without its body (already read and parsed), for the SDK paths that need
   * one (opt-in stateful sessions). `headers` replace same-named request headers.
   */
  toWebRequest(headers?: Readonly<Record<string, string>>): Request;
}

/** The part of a request that stage 11 needs to cancel a handler whose client went away. */
export type ClientLink = Pick<InboundRequest, "onClientGone">;

export type Headers = Record<string, string>;

/** A complete answer held in memory. `body: null` sends no body (202, 204). */
export interface BodyReply {
  readonly kind: "body";
  readonly status: number;
  readonly headers: Headers;
  readonly body: string | null;
  /** For rejections: the stable reason, reported to `onRejected` and logs. */
  readonly reason?: string;
  /** For rejections: why, in more detail, for metrics and the audit log. Never sent. */
  readonly detail?: RejectionDetail;
}

/** What the audit log and metrics learn about a refusal beyond its reason. */
export type RejectionDetail =
  | {
      /** Stage 5: `reason` is the extractor's or the validator's (`missing_token`, `expired`, …). */
      readonly kind: "authentication";
      readonly reason: string;
    }
  | {
      /** Stages 6 and 9. */
      readonly kind: "access";
      readonly rule: AccessRuleKind;
      readonly target: string | undefined;
      /** Scopes (any one) or roles (any one) that would have admitted the caller. */
      readonly missingScopes: readonly string[];
      readonly missingRoles: readonly string[];
    }
  | {
      /** Stages 4 and 7. */
      readonly kind: "rate_limit";
      readonly policy: string;
    };

/** A server-sent-events answer; frames arrive through `stream`. */
export interface StreamReply {
  readonly kind: "stream";
  readonly status: number;
  readonly headers: Headers;
  readonly stream: ReplyStream;
}

/** An answer the SDK built as a web `Response` (stateful sessions). */
export interface WebReply {
  readonly kind: "web";
  readonly response: Response;
}

export type Reply = BodyReply | StreamReply | WebReply;

/** Where a streamed answer's frames go once the adapter has sent the head. */
export interface StreamSink {
  write(chunk: string): void;
  end(): void;
}

/**
 * A stream of text frames that may start before the adapter is ready: frames written before
 * `attach` are buffered. `cancel` is the adapter telling us the client went away.
 */
export class ReplyStream {
  private sink: StreamSink | undefined;
  private buffered: string[] = [];
  private ended = false;
  private cancelled = false;
  private readonly onCancel: () => void;
  private closedListener: (() => void) | undefined;

  constructor(onCancel: () => void) {
    this.onCancel = onCancel;
  }

  get closed(): boolean {
    return this.ended || this.cancelled;
  }

  write(chunk: string): void {
    if (this.closed) return;
    if (this.sink === undefined) this.buffered.push(chunk);
    else this.sink.write(chunk);
  }

  end(): void {
    if (this.closed) return;
    this.ended = true;
    this.sink?.end();
    this.notifyClosed();
  }

  /** Called once when the stream ends or is cancelled (at once if it already has): telemetry ends its span. */
  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closedListener = listener;
  }

  attach(sink: StreamSink): void {
    this.sink = sink;
    for (const chunk of this.buffered) sink.write(chunk);
    this.buffered = [];
    if (this.ended) sink.end();
  }

  cancel(): void {
    if (this.closed) return;
    this.cancelled = true;
    this.onCancel();
    this.notifyClosed();
  }

  private notifyClosed(): void {
    const listener = this.closedListener;
    this.closedListener = undefined;
    listener?.();
  }
}
