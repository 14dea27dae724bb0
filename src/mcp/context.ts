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
  return ctx.http?.authInfo?.extra?.[STATE_KEY] as RequestState | undefined;
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
  /** The SDK's own request context, for what Paved does not wrap. */
  readonly mcp: ServerContext;
}

/** One allocation per call; methods live on the prototype. */
class CallContext implements ToolContext {
  readonly mcp: ServerContext;
  private readonly state: RequestState;
  private logger: Logger | undefined;

  constructor(mcp: ServerContext, state: RequestState) {
    this.mcp = mcp;
    this.state = state;
  }

  get user(): Principal {
    return this.state.principal;
  }

  get signal(): AbortSignal {
    return this.mcp.mcpReq.signal;
  }

  get requestId(): string {
    return this.state.requestId;
  }

  get sessionId(): string | undefined {
    return this.mcp.sessionId;
  }

  get log(): Logger {
    this.logger ??= this.state.logger.child({ requestId: this.state.requestId });
    return this.logger;
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    const token = this.mcp.mcpReq._meta?.progressToken;
    if (token === undefined) return;
    await this.mcp.mcpReq.notify({
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
