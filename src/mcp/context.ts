import type { AuthInfo, ServerContext } from "@modelcontextprotocol/server";
import type { Principal } from "../auth/principal.js";
import type { Logger } from "../telemetry/logger.js";

/** What one request carries from the pipeline into the handler, riding on the SDK's `AuthInfo.extra`. */
export interface RequestState {
  readonly principal: Principal;
  readonly requestId: string;
  readonly logger: Logger;
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
  /** A logger whose lines carry this request's id. */
  readonly log: Logger;
  /** Reports progress to the client when it asked for it (a `progressToken`); otherwise a no-op. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * The SDK's own request context, for what Paved does not wrap. Its `elicitInput` and
   * `requestSampling` are sent on this request's response stream (SEP-2260).
   */
  readonly mcp: ServerContext;
}

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
  private readonly sdk: ServerContext;
  private readonly state: RequestState;
  private logger: Logger | undefined;
  private view: ServerContext | undefined;

  constructor(sdk: ServerContext, state: RequestState) {
    this.sdk = sdk;
    this.state = state;
  }

  /** Built on first use: most handlers never touch the SDK context. */
  get mcp(): ServerContext {
    this.view ??= relatedContext(this.sdk);
    return this.view;
  }

  get user(): Principal {
    return this.state.principal;
  }

  get signal(): AbortSignal {
    return this.sdk.mcpReq.signal;
  }

  get requestId(): string {
    return this.state.requestId;
  }

  get sessionId(): string | undefined {
    return this.sdk.sessionId;
  }

  get log(): Logger {
    this.logger ??= this.state.logger.child({ requestId: this.state.requestId });
    return this.logger;
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    const token = this.sdk.mcpReq._meta?.progressToken;
    if (token === undefined) return;
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
}

export function createToolContext(mcp: ServerContext, fallback: RequestState): ToolContext {
  return new CallContext(mcp, stateOf(mcp) ?? fallback);
}
