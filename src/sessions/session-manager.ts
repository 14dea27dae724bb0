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
import type { Telemetry } from "../telemetry/telemetry.js";
import { instrumentSession } from "./instrument.js";
import type { SessionEventStore } from "./redis-event-store.js";
import { sessionNotFound, type ReplicaRouter } from "./replica-router.js";
import type { RegistryLimits, SessionRegistry } from "./session-registry.js";

export interface SessionManagerOptions {
  readonly idleTimeoutMs: number;
  readonly maxPerUser: number;
  readonly maxTotal: number;
  /** A fresh SDK server with the catalog registered: each session owns one. */
  readonly newServer: () => McpServer;
  readonly logger: Logger;
  /** Narrows list results to what the calling principal may use; `undefined` lists everything. */
  readonly filter: ListFilter | undefined;
  /** Operation spans and metrics per message; `paved.sessions.active`, `mcp.server.session.duration`. */
  readonly telemetry: Telemetry;
  /** Which replica holds each session, and the per-user cap across replicas. */
  readonly registry: SessionRegistry;
  /** Sessions held by other replicas: forwarding to the owner, or 404. */
  readonly router: ReplicaRouter;
  /** The resumable-stream store of a new session (memory, or Redis across replicas). */
  readonly eventStore: (sessionId: string, owner: string) => SessionEventStore;
  /** This replica's base URL, recorded with each session it opens. */
  readonly replicaUrl: () => string;
}

interface Session {
  readonly id: string;
  readonly owner: string;
  /** The version `initialize` settled on for this session. */
  readonly protocolVersion: string;
  readonly server: McpServer;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  /** `performance.now()` when `initialize` opened it, for `mcp.server.session.duration`. */
  readonly opened: number;
  readonly events: SessionEventStore;
  lastSeen: number;
}

/** SSE reconnection delay the server advises in priming events (SEP-1699 polling). */
const RETRY_MS = 1_000;

/** 192 random bits, base64url: visible ASCII as the spec requires, unguessable. */
const newSessionId = (): string => randomBytes(24).toString("base64url");

/** What a session id this server issued can look like; anything else is unknown without asking anyone. */
const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;

const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

function negotiatedVersion(parsed: ParsedMessage): string {
  const requested = (parsed.message as { params?: { protocolVersion?: unknown } }).params?.protocolVersion;
  return typeof requested === "string" && SUPPORTED.has(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

const notFound = sessionNotFound;

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
 * principal's least recently used session goes when it opens one too many, counted across
 * replicas by the registry: clients rarely send DELETE. A session held by another replica is
 * forwarded there (`replica-router.ts`).
 */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  /** Registry removals and event deletions in progress, awaited by `close()`. */
  private readonly cleanups = new Set<Promise<void>>();
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
    if (!SESSION_ID.test(sessionId)) return notFound();
    const mark = this.options.router.markOf(request, sessionId);
    if (mark === "untrusted")
      return rejection(403, "forwarding_not_trusted", "Forbidden: the forwarding mark is not valid");
    const session = this.sessions.get(sessionId);
    if (session === undefined) {
      const requestId = stateFromAuthInfo(authInfo)?.requestId ?? "unknown";
      return this.options.router.elsewhere(request, parsed, principal, sessionId, mark, requestId);
    }
    if (session.owner !== principal.id) return notFound();
    if (!(await this.stillRegistered(session))) return notFound();
    session.lastSeen = Date.now();
    if (request.method === "GET" && !(await this.resumable(request, session))) {
      // The SDK answers this too, but without the documented `data.reason` (found by fuzzing).
      return rejection(400, "invalid_request", "Bad Request: Last-Event-ID names no event of this session");
    }
    const response = await session.transport.handleRequest(
      request.toWebRequest(this.versionOverride(request, session)),
      {
        authInfo,
        ...(parsed !== undefined && { parsedBody: parsed.message }),
      },
    );
    return { kind: "web", response };
  }

  /** Whether a `Last-Event-ID` (when sent) names one of the session's streams; a store fault defers to the SDK. */
  private async resumable(request: InboundRequest, session: Session): Promise<boolean> {
    const lastEventId = request.header("last-event-id");
    // An empty value is no value, as for the SDK: the client resumes nothing.
    if (lastEventId === undefined || lastEventId === "" || session.events.getStreamIdForEventId === undefined)
      return true;
    try {
      return (await session.events.getStreamIdForEventId(lastEventId)) !== undefined;
    } catch {
      return true;
    }
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
    // Recorded before the client learns the id, so any replica can route its next request here.
    const sessionId = newSessionId();
    try {
      const evicted = await this.options.registry.register(
        { id: sessionId, owner: principal.id, replica: this.options.replicaUrl() },
        this.limits,
      );
      for (const id of evicted) {
        const local = this.sessions.get(id);
        if (local !== undefined) this.closeSession(local);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, "session registry unavailable: initialize refused");
      return rejection(
        503,
        "session_store_unavailable",
        "Service Unavailable: the session registry is unreachable",
        { headers: { "retry-after": "2" } },
      );
    }
    const server = this.options.newServer();
    const protocolVersion = negotiatedVersion(parsed);
    const events = this.options.eventStore(sessionId, principal.id);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      eventStore: events,
      retryInterval: RETRY_MS,
      onsessioninitialized: (id) => {
        this.sessions.set(id, {
          id,
          owner: principal.id,
          protocolVersion,
          server,
          transport,
          opened: performance.now(),
          events,
          lastSeen: Date.now(),
        });
        this.options.telemetry.metrics.sessionOpened(protocolVersion);
      },
      onsessionclosed: (id) => {
        this.forget(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.forget(transport.sessionId);
    };
    await server.connect(transport);
    if (this.options.filter !== undefined) filterLists(transport, this.options.filter);
    instrumentSession(transport, this.options.telemetry.operations, protocolVersion);
    const response = await transport.handleRequest(request.toWebRequest(), {
      authInfo,
      parsedBody: parsed.message,
    });
    if (!this.sessions.has(sessionId)) {
      // The SDK refused the initialize: nothing was opened, so nothing stays recorded.
      this.track(this.unregister(principal.id, sessionId, events));
      server.close().catch(() => undefined);
    }
    return { kind: "web", response };
  }

  private get limits(): RegistryLimits {
    return { ttlMs: this.options.idleTimeoutMs, maxPerUser: this.options.maxPerUser };
  }

  /**
   * Every use extends the session's record; a record that is gone (the owner opened one session too
   * many on another replica, or the registry lost it) closes the session here too. When the
   * registry cannot be reached, the session this replica holds keeps working.
   */
  private async stillRegistered(session: Session): Promise<boolean> {
    try {
      if (await this.options.registry.touch(session.owner, session.id, this.limits)) return true;
    } catch (error) {
      this.options.logger.warn({ err: error }, "session registry unavailable; serving the local session");
      return true;
    }
    this.closeSession(session);
    return false;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const session of this.sessions.values()) if (session.lastSeen < cutoff) this.closeSession(session);
    if (this.options.registry.shared) void this.sweepEvicted();
  }

  /** Sessions evicted by the per-user cap on another replica are closed here without waiting for a request. */
  private async sweepEvicted(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map(async (session) => {
        const exists = await this.options.registry.exists(session.owner, session.id).catch(() => true);
        if (!exists && this.sessions.get(session.id) === session) this.closeSession(session);
      }),
    );
  }

  private track(cleanup: Promise<void>): void {
    this.cleanups.add(cleanup);
    void cleanup.finally(() => this.cleanups.delete(cleanup));
  }

  /** Removes the session's record and its stored events; never rejects. */
  private async unregister(owner: string, id: string, events: SessionEventStore): Promise<void> {
    await Promise.all([
      this.options.registry.remove(owner, id).catch((error: unknown) => {
        this.options.logger.debug({ err: error }, "removing a session record failed");
      }),
      events.dispose().catch((error: unknown) => {
        this.options.logger.debug({ err: error }, "removing a session's events failed");
      }),
    ]);
  }

  /** Drops a session from the registry, once, and records how long it lived. */
  private forget(id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    this.sessions.delete(id);
    this.track(this.unregister(session.owner, session.id, session.events));
    this.options.telemetry.metrics.sessionClosed(
      session.protocolVersion,
      (performance.now() - session.opened) / 1000,
    );
    return session;
  }

  private closeSession(session: Session): void {
    this.forget(session.id);
    session.server.close().catch((error: unknown) => {
      this.options.logger.debug({ err: error }, "closing a session failed");
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    for (const session of all) this.forget(session.id);
    await Promise.all([
      ...all.map((session) => session.server.close().catch(() => undefined)),
      ...this.cleanups,
    ]);
  }
}
