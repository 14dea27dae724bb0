import type { AuthInfo, ServerContext } from "@modelcontextprotocol/server";
import type { Context } from "@opentelemetry/api";
import type { Principal } from "../auth/principal.js";
import { DownstreamClient, type Downstream, type DownstreamServices } from "../downstream/fetch.js";
import { PavedError } from "../errors.js";
import type { InboundRequest } from "../http/exchange.js";
import type { AuditContext } from "../telemetry/audit.js";
import type { Logger } from "../telemetry/logger.js";

/**
 * What one request carries from the pipeline into the handler, riding on the SDK's `AuthInfo.extra`
 * (the pipeline's `RequestScope` is one).
 */
export interface RequestState extends AuditContext {
  readonly principal: Principal;
  /** Lines carry the request id (and trace ids when traced); made on first use. */
  readonly log: Logger;
  /** The HTTP span's context when the request is traced: operation spans start under it. */
  readonly traceContext: Context | undefined;
  /** The HTTP request, when there is one (protocol version, client address). */
  readonly request: InboundRequest | undefined;
}

const STATE_KEY = "paved";

/** The `AuthInfo` the SDK passes through to handlers (`ctx.http.authInfo`). */
export function authInfoFor(state: RequestState, token: string, expiresAt?: number): AuthInfo {
  return {
    token,
    clientId: state.principal.clientId ?? state.principal.id,
    scopes: [...state.principal.scopes],
    ...(expiresAt !== undefined && { expiresAt }),
    extra: { [STATE_KEY]: state },
  };
}

export function stateOf(ctx: ServerContext): RequestState | undefined {
  return stateFromAuthInfo(ctx.http?.authInfo);
}

export function stateFromAuthInfo(authInfo: AuthInfo | undefined): RequestState | undefined {
  return authInfo?.extra?.[STATE_KEY] as RequestState | undefined;
}

/** Everything a tool, resource or prompt handler gets besides its arguments. */
export interface ToolContext {
  /** The authenticated caller. */
  readonly user: Principal;
  /** Aborts when the client cancels or disconnects, or the request's deadline passes. */
  readonly signal: AbortSignal;
  /** Correlates this call with the server's logs and traces. */
  readonly requestId: string;
  /** The 2025-era session, in stateful mode. */
  readonly sessionId: string | undefined;
  /** A logger whose lines carry this request's id, and its trace id when traced. */
  readonly log: Logger;
  /** Reports progress to the client when it asked for it (a `progressToken`); otherwise a no-op. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * The SDK's own request context, for what Paved does not wrap. Its `elicitInput` and
   * `requestSampling` are sent on this request's response stream (SEP-2260). A tool must declare
   * `sdkContext: true` to read it (its calls then run through the SDK); otherwise reading it throws
   * `ERR_SDK_CONTEXT`. Resources and prompts always have it.
   */
  readonly mcp: ServerContext;
  /**
   * 2026-07-28 multi-round-trip requests: seals `payload` (JSON data) into the `requestState` to
   * return from `inputRequired({ inputRequests, requestState })`. It is signed with the key ring
   * every replica shares (`server.stateKeys`) and bound to this caller and method, so the next
   * round may land on any replica and nobody else can use it. Signed, not encrypted: the client can
   * read it, so keep secrets out. Put the tool's own name in it if several tools use state.
   *
   * @example
   * return inputRequired({ inputRequests: { ok: inputRequired.elicit({ ... }) }, requestState: await ctx.sealState({ step: 1 }) });
   */
  sealState(payload: unknown): Promise<string>;
  /**
   * The verified payload the client echoed back from {@link sealState}, or `undefined` in a first
   * round. `T` is asserted by the caller, like the SDK's `ctx.mcpReq.requestState<T>()`.
   */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed read of what sealState stored
  state<T = unknown>(): T | undefined;
  /**
   * Protected downstream APIs called as the signed-in user (on-behalf-of through MSAL, with the
   * `azureAd.clientCredentials` of this app): `fetch(api, path)` for `downstream.<api>`, or
   * `authorizationHeader(scopes)` for any other client. Made on first use. docs/downstream.md.
   *
   * @example
   * const response = await ctx.downstream.fetch("graph", "/me");
   */
  readonly downstream: Downstream;
}

/** Used when the host wires no downstream services (a bare `buildMcpServer`). */
const NO_DOWNSTREAM: DownstreamServices = Object.freeze({
  apis: Object.freeze({}),
  provider: "This server is not set up for downstream calls.",
});

/** Seals `requestState` for the tool context (the host's key ring); see `src/state/request-state.ts`. */
export type StateSealer = (payload: unknown, ctx: ServerContext) => Promise<string>;

/** What a call answered by Paved directly (src/mcp/direct-call.ts) has instead of the SDK's context. */
export interface DirectCall {
  readonly signal: AbortSignal;
  readonly token: string;
}

/**
 * Thrown by `sealState` in a direct call: only the SDK can answer a multi-round-trip request, so the
 * call is handed to it before anything was sent.
 */
export const NEEDS_SDK = Object.freeze(new Error("this call needs the SDK's request context"));

/** Where a call runs: the SDK's request path, with its context, or Paved's direct one. */
export type CallLane =
  | { readonly sdk: ServerContext; readonly direct?: undefined }
  | { readonly sdk?: undefined; readonly direct: DirectCall };

/**
 * The SDK context as handlers see it: its server-to-client requests (`elicitInput`,
 * `requestSampling`) are tied to the request being handled, so they travel on that request's
 * response stream, where SEP-2260 requires them and where the client is listening. The SDK sends
 * them unrelated: onto the session's GET stream, which a client need not open (and opens
 * asynchronously after `initialize`), and in stateless serving nowhere at all, so the call hung
 * until its timeout. An explicit `relatedRequestId` in `options` still wins.
 */
function relatedContext(sdk: ServerContext): ServerContext {
  // Deprecated for the 2026-07-28 era only (where the SDK throws); these wrap them for 2025-era sessions.
  /* eslint-disable @typescript-eslint/no-deprecated */
  const { id, elicitInput, requestSampling } = sdk.mcpReq;
  return {
    ...sdk,
    mcpReq: {
      ...sdk.mcpReq,
      elicitInput: (params, options) => elicitInput(params, { relatedRequestId: id, ...options }),
      requestSampling: (params, options) => requestSampling(params, { relatedRequestId: id, ...options }),
    },
  };
  /* eslint-enable @typescript-eslint/no-deprecated */
}

/** One allocation per call; methods live on the prototype. */
class CallContext implements ToolContext {
  private readonly sdk: ServerContext | undefined;
  private readonly direct: DirectCall | undefined;
  private readonly request: RequestState;
  private readonly sealer: StateSealer | undefined;
  private readonly services: DownstreamServices | undefined;
  /** The tool's name when it did not declare `sdkContext`; `undefined` when `ctx.mcp` may be read. */
  private readonly sdkWithheldFrom: string | undefined;
  private view: ServerContext | undefined;
  private client: Downstream | undefined;

  constructor(
    lane: CallLane,
    request: RequestState,
    sealer: StateSealer | undefined,
    services: DownstreamServices | undefined,
    sdkWithheldFrom: string | undefined,
  ) {
    this.sdk = lane.sdk;
    this.direct = lane.direct;
    this.request = request;
    this.sealer = sealer;
    this.services = services;
    this.sdkWithheldFrom = sdkWithheldFrom;
  }

  /** Built on first use: most handlers never call a downstream API. */
  get downstream(): Downstream {
    this.client ??= new DownstreamClient(this.services ?? NO_DOWNSTREAM, {
      principal: this.request.principal,
      token: this.sdk?.http?.authInfo?.token ?? this.direct?.token,
      signal: this.signal,
      log: this.request.log,
      state: this.request,
    });
    return this.client;
  }

  /** Built on first use: most handlers never touch the SDK context. */
  get mcp(): ServerContext {
    if (this.sdkWithheldFrom !== undefined || this.sdk === undefined) {
      throw new PavedError(
        "ERR_SDK_CONTEXT",
        `Tool "${this.sdkWithheldFrom ?? ""}" reads ctx.mcp: declare sdkContext: true in its definition`,
      );
    }
    this.view ??= relatedContext(this.sdk);
    return this.view;
  }

  get user(): Principal {
    return this.request.principal;
  }

  get signal(): AbortSignal {
    return this.sdk === undefined ? (this.direct as DirectCall).signal : this.sdk.mcpReq.signal;
  }

  get requestId(): string {
    return this.request.requestId;
  }

  get sessionId(): string | undefined {
    return this.sdk?.sessionId;
  }

  get log(): Logger {
    return this.request.log;
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    // A direct call never has a progress token: requests that carry one go through the SDK.
    const token = this.sdk?.mcpReq._meta?.progressToken;
    if (this.sdk === undefined || token === undefined) return;
    await this.sdk.mcpReq.notify({
      method: "notifications/progress",
      params: {
        progressToken: token,
        progress,
        ...(total !== undefined && { total }),
        ...(message !== undefined && { message }),
      },
    });
  }

  sealState(payload: unknown): Promise<string> {
    if (this.sdk === undefined) return Promise.reject(NEEDS_SDK);
    if (this.sealer === undefined)
      return Promise.reject(new Error("sealState is only available to tools on a Paved host"));
    return this.sealer(payload, this.sdk);
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see ToolContext.state
  state<T = unknown>(): T | undefined {
    // A direct call never carries requestState: requests that do go through the SDK.
    return this.sdk?.mcpReq.requestState<T>();
  }
}

/**
 * The context of one call. `sdkWithheldFrom`: the name of a tool that did not declare
 * `sdkContext`, whose `ctx.mcp` throws in every lane (so a tool behaves the same whichever lane
 * serves it).
 */
export function createToolContext(
  lane: CallLane,
  state: RequestState,
  sealer?: StateSealer,
  downstream?: DownstreamServices,
  sdkWithheldFrom?: string,
): ToolContext {
  return new CallContext(lane, state, sealer, downstream, sdkWithheldFrom);
}
