import type { AuthInfo, McpServer } from "@modelcontextprotocol/server";
import type { Principal } from "../auth/principal.js";
import type { Reply } from "../http/exchange.js";
import type { Logger } from "../telemetry/logger.js";
import { MuxTransport } from "./mux-transport.js";
import type { ParsedMessage } from "./parse.js";
import { MODERN_PROTOCOL_VERSION } from "./server-builder.js";

/** Narrows a list result to what the caller may use. */
export type ListFilter = (
  principal: Principal,
  method: string,
  result: Record<string, unknown>,
) => Record<string, unknown>;

const LIST_METHODS = new Set(["tools/list", "prompts/list", "resources/list"]);

/**
 * Pipeline stage 11 for stateless traffic: the two long-lived SDK servers (one per protocol era)
 * behind their multiplexing transports.
 */
export class Dispatcher {
  private readonly modern: MuxTransport;
  private readonly legacy: MuxTransport;
  private readonly servers: readonly McpServer[];
  private readonly connected: Promise<unknown>;
  private readonly filter: ListFilter;

  constructor(
    build: (era: "modern" | "legacy") => McpServer,
    deadlineMs: number,
    filter: ListFilter,
    logger: Logger,
  ) {
    this.filter = filter;
    this.modern = new MuxTransport({ era: "modern", revision: MODERN_PROTOCOL_VERSION }, deadlineMs);
    this.legacy = new MuxTransport({ era: "legacy" }, deadlineMs);
    const modernServer = build("modern");
    const legacyServer = build("legacy");
    this.servers = [modernServer, legacyServer];
    for (const server of this.servers) {
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

  dispatch(
    parsed: ParsedMessage,
    authInfo: AuthInfo,
    principal: Principal,
    signal: AbortSignal,
  ): Reply | Promise<Reply> {
    const transport = parsed.era === "modern" ? this.modern : this.legacy;
    if (parsed.kind !== "request") return transport.deliver(parsed.message, { authInfo });
    const method = parsed.message.method;
    const filter = LIST_METHODS.has(method)
      ? (name: string, result: Record<string, unknown>) => this.filter(principal, name, result)
      : undefined;
    return transport.request(parsed.message, { authInfo }, signal, filter);
  }

  async close(): Promise<void> {
    await this.connected.catch(() => undefined);
    await Promise.all(this.servers.map((server) => server.close()));
  }
}
