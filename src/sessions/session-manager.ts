import { randomBytes } from "node:crypto";
import {
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
  isInitializeRequest,
  type AuthInfo,
  type McpServer,
} from "@modelcontextprotocol/server";
import type { Principal } from "../auth/principal.js";
import type { InboundRequest, Reply } from "../http/exchange.js";
import { rejection } from "../http/responses.js";
import { stateFromAuthInfo } from "../mcp/context.js";
import type { ListFilter } from "../mcp/dispatcher.js";
import type { ParsedMessage } from "../mcp/parse.js";
import type { Logger } from "../telemetry/logger.js";
import { MemoryEventStore } from "./memory-event-store.js";

export interface SessionManagerOptions {
  readonly idleTimeoutMs: number;
  readonly maxPerUser: number;
  readonly maxTotal: number;
  /** A fresh SDK server with the catalog registered: each session owns one. */
  readonly newServer: () => McpServer;
  readonly logger: Logger;
  /** Narrows list results to what the calling principal may use; `undefined` lists everything. */
  readonly filter: ListFilter | undefined;
}

interface Session {
  readonly id: string;
  readonly owner: string;
  /** The version `initialize` settled on for this session. */
  readonly protocolVersion: string;
  readonly server: McpServer;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  lastSeen: number;
}

/** SSE reconnection delay the server advises in priming events (SEP-1699 polling). */
const RETRY_MS = 1_000;

/** 192 random bits, base64url: visible ASCII as the spec requires, unguessable. */
const newSessionId = (): string => randomBytes(24).toString("base64url");

const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

function negotiatedVersion(parsed: ParsedMessage): string {
  const requested = (parsed.message as { params?: { protocolVersion?: unknown } }).params?.protocolVersion;
  return typeof requested === "string" && SUPPORTED.has(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

function notFound(): Reply {
  return rejection(404, "session_not_found", "Session not found", { code: -32001 });
}

const LIST_METHODS = new Set(["tools/list", "prompts/list", "resources/list"]);

/**
 * Lists in a session are answered by the SDK's own transport; this narrows each list result to
 * what the principal that asked may use (the principal rides on the request's AuthInfo).
 */
function filterLists(transport: WebStandardStreamableHTTPServerTransport, filter: ListFilter): void {
  const asked = new Map<string | number, { method: string; principal: Principal }>();
  const inbound = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ("method" in message && "id" in message && LIST_METHODS.has(message.method)) {
      const principal = stateFromAuthInfo(extra?.authInfo)?.principal;
      if (principal !== undefined) asked.set(message.id, { method: message.method, principal });
    }
    inbound?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if ("result" in message && asked.has(message.id)) {
      const { method, principal } = asked.get(message.id) as { method: string; principal: Principal };
      asked.delete(message.id);
      return send({ ...message, result: filter(principal, method, message.result) }, options);
    }
    if ("error" in message) asked.delete(message.id as string | number);
    return send(message, options);
  };
}

/**
 * The opt-in stateful mode for 2025-era clients: one SDK server and streamable HTTP transport per
 * session, each session bound to the principal that created it. Another principal presenting the
 * id gets the same 404 as an unknown id, so ids cannot be probed. Idle sessions are closed and a
 * principal's oldest session goes when it opens one too many: clients rarely send DELETE.
 */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly options: SessionManagerOptions;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: SessionManagerOptions) {
    this.options = options;
    this.sweeper = setInterval(
      () => {
        this.sweep();
      },
      Math.min(60_000, Math.max(250, options.idleTimeoutMs / 4)),
    );
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Whether this request belongs here rather than to stateless serving. */
  claims(request: InboundRequest, parsed: ParsedMessage | undefined): boolean {
    if (request.method !== "POST" || request.header("mcp-session-id") !== undefined) return true;
    return parsed?.era === "legacy" && isInitializeRequest(parsed.message);
  }

  async handle(
    request: InboundRequest,
    parsed: ParsedMessage | undefined,
    principal: Principal,
    authInfo: AuthInfo,
  ): Promise<Reply> {
    const sessionId = request.header("mcp-session-id");
    if (sessionId === undefined) {
      if (request.method !== "POST" || parsed === undefined || !isInitializeRequest(parsed.message)) {
        return rejection(400, "session_required", "Bad Request: Mcp-Session-Id header is required");
      }
      return this.open(request, parsed, principal, authInfo);
    }
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.owner !== principal.id) return notFound();
    session.lastSeen = Date.now();
    const response = await session.transport.handleRequest(
      request.toWebRequest(this.versionOverride(request, session)),
      {
        authInfo,
        ...(parsed !== undefined && { parsedBody: parsed.message }),
      },
    );
    return { kind: "web", response };
  }

  /**
   * Within a session the version negotiated by `initialize` governs what the transport offers
   * (priming events and polling need 2025-11-25). A client that echoes another supported version in
   * `MCP-Protocol-Version` gets the session's; unsupported versions still reach the SDK and get 400.
   */
  private versionOverride(request: InboundRequest, session: Session): Record<string, string> | undefined {
    const header = request.header("mcp-protocol-version");
    if (header === undefined || header === session.protocolVersion || !SUPPORTED.has(header))
      return undefined;
    return { "mcp-protocol-version": session.protocolVersion };
  }

  private async open(
    request: InboundRequest,
    parsed: ParsedMessage,
    principal: Principal,
    authInfo: AuthInfo,
  ): Promise<Reply> {
    if (this.sessions.size >= this.options.maxTotal) {
      this.sweep();
      if (this.sessions.size >= this.options.maxTotal) {
        return rejection(
          503,
          "session_limit",
          "Service Unavailable: too many open sessions, try again later",
          {
            headers: { "retry-after": "5" },
          },
        );
      }
    }
    this.evictBeyondCap(principal.id);
    const server = this.options.newServer();
    const protocolVersion = negotiatedVersion(parsed);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: newSessionId,
      eventStore: new MemoryEventStore(),
      retryInterval: RETRY_MS,
      onsessioninitialized: (id) => {
        this.sessions.set(id, {
          id,
          owner: principal.id,
          protocolVersion,
          server,
          transport,
          lastSeen: Date.now(),
        });
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    if (this.options.filter !== undefined) filterLists(transport, this.options.filter);
    const response = await transport.handleRequest(request.toWebRequest(), {
      authInfo,
      parsedBody: parsed.message,
    });
    return { kind: "web", response };
  }

  private evictBeyondCap(owner: string): void {
    const owned = [...this.sessions.values()].filter((session) => session.owner === owner);
    if (owned.length < this.options.maxPerUser) return;
    owned.sort((a, b) => a.lastSeen - b.lastSeen);
    for (const session of owned.slice(0, owned.length - this.options.maxPerUser + 1))
      this.closeSession(session);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const session of this.sessions.values()) if (session.lastSeen < cutoff) this.closeSession(session);
  }

  private closeSession(session: Session): void {
    this.sessions.delete(session.id);
    session.server.close().catch((error: unknown) => {
      this.options.logger.debug({ err: error }, "closing a session failed");
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((session) => session.server.close().catch(() => undefined)));
  }
}
