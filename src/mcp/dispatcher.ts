import type { AuthInfo, JSONRPCMessage, JSONRPCRequest, McpServer } from "@modelcontextprotocol/server";
import type { Principal } from "../auth/principal.js";
import type { ClientLink, Reply } from "../http/exchange.js";
import type { Logger } from "../telemetry/logger.js";
import type { Operation, Operations } from "../telemetry/operation.js";
import type { RequestState } from "./context.js";
import type { ToolDefinition } from "./definitions.js";
import type { DirectToolCalls } from "./direct-call.js";
import { MuxTransport, type Cancellation, type DirectRun, type ResponseFilter } from "./mux-transport.js";
import type { ParsedMessage } from "./parse.js";
import { MODERN_PROTOCOL_VERSION } from "./server-builder.js";

/** Narrows a list result to what the caller may use. */
export type ListFilter = (
  principal: Principal,
  method: string,
  result: Record<string, unknown>,
) => Record<string, unknown>;

const LIST_METHODS = new Set(["tools/list", "prompts/list", "resources/list"]);

// Module functions rather than closures: `Operation.run` calls them inside the span's context.
const deliver = (transport: MuxTransport, message: JSONRPCMessage, authInfo: AuthInfo): Reply =>
  transport.deliver(message, { authInfo });
const request = (
  transport: MuxTransport,
  message: JSONRPCRequest,
  authInfo: AuthInfo,
  client: ClientLink,
  filter: ResponseFilter | undefined,
  op: Operation,
): Promise<Reply> => transport.request(message, { authInfo }, client, filter, op);
const direct = (
  transport: MuxTransport,
  message: JSONRPCRequest,
  authInfo: AuthInfo,
  client: ClientLink,
  op: Operation | undefined,
  run: DirectRun,
): Promise<Reply> => transport.direct(message, { authInfo }, client, op, run);

/**
 * Pipeline stage 11 for stateless traffic: the two long-lived SDK servers (one per protocol era)
 * behind their multiplexing transports.
 */
export class Dispatcher {
  private readonly modern: MuxTransport;
  private readonly legacy: MuxTransport;
  private readonly modernServer: McpServer;
  private readonly legacyServer: McpServer;
  private readonly directCalls: DirectToolCalls;
  private readonly connected: Promise<unknown>;
  private readonly filter: ListFilter;
  private readonly operations: Operations;

  constructor(
    build: (era: "modern" | "legacy") => McpServer,
    directCalls: DirectToolCalls,
    deadlineMs: number,
    filter: ListFilter,
    logger: Logger,
    operations: Operations,
  ) {
    this.filter = filter;
    this.operations = operations;
    this.modern = new MuxTransport({ era: "modern", revision: MODERN_PROTOCOL_VERSION }, deadlineMs);
    this.legacy = new MuxTransport({ era: "legacy" }, deadlineMs);
    const modernServer = build("modern");
    const legacyServer = build("legacy");
    this.modernServer = modernServer;
    this.legacyServer = legacyServer;
    this.directCalls = directCalls;
    for (const server of [modernServer, legacyServer]) {
      server.server.onerror = (error) => {
        logger.debug({ err: error }, "MCP protocol error");
      };
    }
    // Connecting these transports does no I/O: both settle before the first request can arrive.
    this.connected = Promise.all([modernServer.connect(this.modern), legacyServer.connect(this.legacy)]);
    this.connected.catch((error: unknown) => {
      logger.error({ err: error }, "connecting the MCP servers failed");
    });
  }

  get inFlight(): number {
    return this.modern.inFlight + this.legacy.inFlight;
  }

  /**
   * Hands the message to its era's server. With telemetry on, the SDK handles it inside the
   * operation's span context (so a tool's own spans nest under `tools/call <name>`).
   */
  dispatch(
    parsed: ParsedMessage,
    authInfo: AuthInfo,
    state: RequestState,
    client: ClientLink,
  ): Reply | Promise<Reply> {
    const transport = parsed.era === "modern" ? this.modern : this.legacy;
    if (parsed.kind !== "request") {
      const notification = parsed.kind === "notification" ? parsed.message : undefined;
      const op =
        notification !== undefined && "method" in notification
          ? this.operations.start(state, notification)
          : undefined;
      if (op === undefined) return transport.deliver(parsed.message, { authInfo });
      const reply = op.run(deliver, undefined, transport, parsed.message, authInfo);
      op.finish();
      return reply;
    }
    const message = parsed.message;
    const tool = this.directCalls.toolFor(message);
    if (tool !== undefined) return this.callDirectly(tool, parsed, authInfo, state, client);
    const principal = state.principal;
    const filter = LIST_METHODS.has(message.method)
      ? (name: string, result: Record<string, unknown>) => this.filter(principal, name, result)
      : undefined;
    const op = this.operations.start(state, message);
    if (op === undefined) return transport.request(message, { authInfo }, client, filter);
    return op.run(request, undefined, transport, message, authInfo, client, filter, op);
  }

  /** A tool call answered by Paved itself (src/mcp/direct-call.ts). */
  private callDirectly(
    tool: ToolDefinition,
    parsed: ParsedMessage & { kind: "request" },
    authInfo: AuthInfo,
    state: RequestState,
    client: ClientLink,
  ): Promise<Reply> {
    const { era, message } = parsed;
    const transport = era === "modern" ? this.modern : this.legacy;
    const server = era === "modern" ? this.modernServer : this.legacyServer;
    const token = authInfo.token;
    const run: DirectRun = (cancellation: Cancellation) =>
      this.directCalls.call(tool, message, era, server, state, {
        get signal() {
          return cancellation.signal;
        },
        token,
      });
    const op = this.operations.start(state, message);
    if (op === undefined) return transport.direct(message, { authInfo }, client, undefined, run);
    return op.run(direct, undefined, transport, message, authInfo, client, op, run);
  }

  async close(): Promise<void> {
    await this.connected.catch(() => undefined);
    await Promise.all([this.modernServer.close(), this.legacyServer.close()]);
  }
}
