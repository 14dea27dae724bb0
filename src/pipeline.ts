import type { AuthInfo } from "@modelcontextprotocol/server";
import type { Authenticated } from "./auth/authenticate.js";
import type { Principal } from "./auth/principal.js";
import type { InboundRequest, Reply } from "./http/exchange.js";
import { rejection } from "./http/responses.js";
import type { RejectionEvent, RequestInfo } from "./host-options.js";
import { authInfoFor, type RequestState } from "./mcp/context.js";
import { parseMessage, type ParsedMessage } from "./mcp/parse.js";
import type { Logger } from "./telemetry/logger.js";

type Stage = (request: InboundRequest) => Reply | undefined | Promise<Reply | undefined>;

/** The stages, in the fixed order of docs/pipeline.md. Each is built once, from options, by its own module. */
export interface PipelineStages {
  readonly mcpPath: string;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** 2: Host, Origin, method, media types, declared size. */
  readonly edgeGuard: (request: InboundRequest) => Reply | undefined;
  /** 3: metadata and health routes, tried in order; outside the MCP path. */
  readonly publicRoutes: readonly Stage[];
  /** 5: bearer token → principal. */
  readonly authenticate: (request: InboundRequest) => Promise<Authenticated | Reply>;
  /** 6: the user's hook. */
  readonly onAuthenticated:
    | ((principal: Principal, info: RequestInfo) => boolean | undefined | Promise<boolean | undefined>)
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
    principal: Principal,
    signal: AbortSignal,
  ) => Reply | Promise<Reply>;
  readonly onRejected: ((event: RejectionEvent) => void) | undefined;
  readonly stopped: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function requestIdOf(request: InboundRequest): string {
  const given = request.header("x-request-id");
  return given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

function infoOf(request: InboundRequest, requestId: string): RequestInfo {
  return { requestId, method: request.method, path: request.path, remoteAddress: request.remoteAddress };
}

/** Composes the stages into the request handler. Stages 4 and 7 (rate limits) slot in between. */
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

  async function handleMcp(
    request: InboundRequest,
    requestId: string,
    caller: { id?: string },
  ): Promise<Reply> {
    const rejected = stages.edgeGuard(request);
    if (rejected !== undefined) return rejected;

    const auth = await stages.authenticate(request);
    if (auth.kind !== "authenticated") return auth;
    const principal = auth.validated.principal;
    caller.id = principal.id;

    if (stages.onAuthenticated !== undefined) {
      let allowed: boolean | undefined;
      try {
        allowed = await stages.onAuthenticated(principal, infoOf(request, requestId));
      } catch (error) {
        stages.logger.warn({ err: error, requestId }, "onAuthenticated refused the request by throwing");
        allowed = false;
      }
      if (allowed === false)
        return rejection(403, "access_denied", "Forbidden: the caller is not allowed to use this server");
    }

    const parsed = await readMessage(request);
    if (
      parsed !== undefined &&
      "kind" in parsed &&
      (parsed.kind === "body" || parsed.kind === "stream" || parsed.kind === "web")
    )
      return parsed;
    const message = parsed;

    const denied = stages.authorize(request, principal, message);
    if (denied !== undefined) return denied;

    const state: RequestState = { principal, requestId, logger: stages.logger };
    const authInfo = authInfoFor(state, auth.token, auth.validated.expiresAt);
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
    return stages.dispatch(message, authInfo, principal, request.signal);
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
    const caller: { id?: string } = {};
    let reply: Reply;
    if (stages.stopped())
      reply = rejection(503, "shutting_down", "Service Unavailable: the server is shutting down");
    else if (request.path === stages.mcpPath) reply = await handleMcp(request, requestId, caller);
    else reply = await publicRoute(request);
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
          principalId: caller.id,
        });
      } catch (error) {
        stages.logger.warn({ err: error, requestId }, "onRejected threw");
      }
    }
    return reply;
  };
}
