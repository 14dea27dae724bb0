import type { AuthInfo } from "@modelcontextprotocol/server";
import { context } from "@opentelemetry/api";
import type { Authenticated, LogScope } from "./auth/authenticate.js";
import type { Principal } from "./auth/principal.js";
import type { BodyReply, ClientLink, InboundRequest, RejectionDetail, Reply } from "./http/exchange.js";
import { rejection } from "./http/responses.js";
import type { RejectionEvent, RequestInfo } from "./host-options.js";
import { authInfoFor, type RequestState } from "./mcp/context.js";
import { parseMessage, type ParsedMessage } from "./mcp/parse.js";
import { prependLimitHeaders } from "./rate-limit/headers.js";
import type { LimitOutcome } from "./rate-limit/stage.js";
import type { Logger } from "./telemetry/logger.js";
import type { RequestScope } from "./telemetry/request-scope.js";
import type { Telemetry } from "./telemetry/telemetry.js";

type Stage = (request: InboundRequest) => Reply | undefined | Promise<Reply | undefined>;

/** The stages, in the fixed order of docs/pipeline.md. Each is built once, from options, by its own module. */
export interface PipelineStages {
  readonly mcpPath: string;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** 1: request scope, HTTP span; rejections counted, audited and traced. */
  readonly telemetry: Telemetry;
  /** 2: Host, Origin, method, media types, declared size. */
  readonly edgeGuard: (request: InboundRequest) => Reply | undefined;
  /** 3: metadata and health routes, tried in order; outside the MCP path. */
  readonly publicRoutes: readonly Stage[];
  /** 4: per client address, before any credential is read (`undefined`: off). */
  readonly preAuthLimit?: ((request: InboundRequest) => LimitOutcome | Promise<LimitOutcome>) | undefined;
  /** 5: bearer token → principal. */
  readonly authenticate: (request: InboundRequest, scope: LogScope) => Promise<Authenticated | Reply>;
  /** 6: the user's hook. */
  readonly onAuthenticated:
    | ((principal: Principal, info: RequestInfo) => boolean | undefined | Promise<boolean | undefined>)
    | undefined;
  /** 7: per user, tenant and tool, after the hook and before anything is sent (`undefined`: off). */
  readonly rateLimit?:
    | ((principal: Principal, parsed: ParsedMessage | undefined) => LimitOutcome | Promise<LimitOutcome>)
    | undefined;
  /** 9: scopes, roles and policies, before anything is sent. */
  readonly authorize: (
    request: InboundRequest,
    principal: Principal,
    parsed: ParsedMessage | undefined,
  ) => Reply | undefined;
  /** 10: the opt-in stateful mode claims its requests. */
  readonly sessions:
    | {
        claims(request: InboundRequest, parsed: ParsedMessage | undefined): boolean;
        handle(
          request: InboundRequest,
          parsed: ParsedMessage | undefined,
          principal: Principal,
          authInfo: AuthInfo,
        ): Promise<Reply>;
      }
    | undefined;
  /** 11: the SDK. */
  readonly dispatch: (
    parsed: ParsedMessage,
    authInfo: AuthInfo,
    state: RequestState,
    client: ClientLink,
  ) => Reply | Promise<Reply>;
  readonly onRejected: ((event: RejectionEvent) => void) | undefined;
  readonly stopped: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const HOOK_DENIED: RejectionDetail = Object.freeze({
  kind: "access",
  rule: "hook",
  target: undefined,
  missingScopes: [],
  missingRoles: [],
});

function requestIdOf(request: InboundRequest): string {
  const given = request.header("x-request-id");
  return given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

function infoOf(request: InboundRequest, requestId: string): RequestInfo {
  return { requestId, method: request.method, path: request.path, remoteAddress: request.remoteAddress };
}

/** Composes the stages into the request handler, in the order of docs/pipeline.md. */
export function createPipeline(stages: PipelineStages): (request: InboundRequest) => Promise<Reply> {
  async function readMessage(request: InboundRequest): Promise<ParsedMessage | Reply | undefined> {
    if (request.method !== "POST") return undefined;
    const body = await request.readBody(stages.maxBodyBytes);
    if (body.ok) return parseMessage(request, body.text);
    return body.reason === "too_large"
      ? rejection(
          413,
          "body_too_large",
          `Payload Too Large: the body must not exceed ${stages.maxBodyBytes} bytes`,
          {
            headers: { connection: "close" },
          },
        )
      : rejection(400, "body_aborted", "Bad Request: the body could not be read");
  }

  /** Stages 4 and 7: a refusal, or the RateLimit fields the answer will carry (`scope.limitHeaders`). */
  async function limit(
    scope: RequestScope,
    pending: LimitOutcome | Promise<LimitOutcome> | undefined,
  ): Promise<BodyReply | undefined> {
    const outcome = pending instanceof Promise ? await pending : pending;
    if (outcome?.reply !== undefined) return outcome.reply;
    if (outcome?.headers !== undefined) {
      if (scope.limitHeaders !== undefined) prependLimitHeaders(outcome.headers, scope.limitHeaders);
      scope.limitHeaders = outcome.headers;
    }
    return undefined;
  }

  async function handleMcp(request: InboundRequest, scope: RequestScope): Promise<Reply> {
    const rejected = stages.edgeGuard(request);
    if (rejected !== undefined) return rejected;

    const flooded = await limit(scope, stages.preAuthLimit?.(request));
    if (flooded !== undefined) return flooded;

    const auth = await stages.authenticate(request, scope);
    if (auth.kind !== "authenticated") return auth;
    const principal = auth.validated.principal;
    scope.principal = principal;
    scope.principalId = principal.id;

    if (stages.onAuthenticated !== undefined) {
      let allowed: boolean | undefined;
      try {
        allowed = await stages.onAuthenticated(principal, infoOf(request, scope.requestId));
      } catch (error) {
        scope.log.warn({ err: error }, "onAuthenticated refused the request by throwing");
        allowed = false;
      }
      if (allowed === false)
        return {
          ...rejection(403, "access_denied", "Forbidden: the caller is not allowed to use this server"),
          detail: HOOK_DENIED,
        };
    }

    const parsed = await readMessage(request);
    const isReply =
      parsed !== undefined &&
      "kind" in parsed &&
      (parsed.kind === "body" || parsed.kind === "stream" || parsed.kind === "web");
    // Stage 7 after the body is read, so a tool's cost is known; before the parse verdict, so an
    // over-quota caller gets 429 whatever it sent (a body that could not be read is answered as is).
    const unread =
      isReply &&
      "reason" in parsed &&
      (parsed.reason === "body_too_large" || parsed.reason === "body_aborted");
    if (stages.rateLimit !== undefined && !unread) {
      const message = isReply ? undefined : (parsed as ParsedMessage | undefined);
      const throttled = await limit(scope, stages.rateLimit(principal, message));
      if (throttled !== undefined) return throttled;
    }
    if (
      parsed !== undefined &&
      "kind" in parsed &&
      (parsed.kind === "body" || parsed.kind === "stream" || parsed.kind === "web")
    )
      return parsed;
    const message = parsed;

    const denied = stages.authorize(request, principal, message);
    if (denied !== undefined) return denied;

    const authInfo = authInfoFor(scope, auth.token, auth.validated.expiresAt);
    if (
      stages.sessions !== undefined &&
      message?.era !== "modern" &&
      stages.sessions.claims(request, message)
    ) {
      return stages.sessions.handle(request, message, principal, authInfo);
    }
    if (message === undefined)
      return rejection(405, "method_not_allowed", "Method Not Allowed: use POST", {
        headers: { allow: "POST" },
      });
    return stages.dispatch(message, authInfo, scope, request);
  }

  async function publicRoute(request: InboundRequest): Promise<Reply> {
    for (const route of stages.publicRoutes) {
      const reply = await route(request);
      if (reply !== undefined) return reply;
    }
    return rejection(404, "not_found", "Not Found");
  }

  return async function handle(request) {
    const requestId = requestIdOf(request);
    const scope = stages.telemetry.begin(request, requestId);
    let reply: Reply;
    try {
      if (stages.stopped())
        reply = rejection(503, "shutting_down", "Service Unavailable: the server is shutting down");
      else if (request.path !== stages.mcpPath) reply = await publicRoute(request);
      // Traced: the HTTP span is active for hooks, validators and handlers (their own spans nest under it).
      else if (scope.traceContext === undefined) reply = await handleMcp(request, scope);
      else reply = await context.with(scope.traceContext, handleMcp, undefined, request, scope);
    } catch (error) {
      stages.telemetry.fail(scope, error);
      throw error;
    }
    stages.telemetry.end(scope, reply);
    const limits = scope.limitHeaders;
    if (limits !== undefined) {
      if (reply.kind !== "web") prependLimitHeaders(reply.headers, limits);
      else {
        try {
          for (const [name, value] of Object.entries(limits)) reply.response.headers.set(name, value);
        } catch {
          // An immutable Response: its headers are final.
        }
      }
    }
    if (reply.kind === "web") return reply;
    reply.headers["x-request-id"] = requestId;
    if (
      reply.kind === "body" &&
      reply.reason !== undefined &&
      reply.status >= 400 &&
      stages.onRejected !== undefined
    ) {
      try {
        stages.onRejected({
          ...infoOf(request, requestId),
          status: reply.status,
          reason: reply.reason,
          principalId: scope.principalId,
        });
      } catch (error) {
        scope.log.warn({ err: error }, "onRejected threw");
      }
    }
    return reply;
  };
}
