import type { Principal } from "../auth/principal.js";
import type { InboundRequest, Reply } from "../http/exchange.js";
import { rejection } from "../http/responses.js";
import type { ParsedMessage } from "../mcp/parse.js";
import type { Logger } from "../telemetry/logger.js";
import { FORWARDED_HEADER, signForwarded, verifyForwarded } from "./forwarded-header.js";
import type { Forwarder } from "./forwarder.js";
import type { SessionRegistry } from "./session-registry.js";

export interface ReplicaRouterOptions {
  readonly registry: SessionRegistry;
  readonly forward: Forwarder;
  /** Keys of the forwarding mark (the `forwarding` purpose of the key ring), current first. */
  readonly keys: readonly Uint8Array[];
  /** This replica's base URL, as recorded in the registry. */
  readonly replicaUrl: () => string;
  readonly logger: Logger;
}

/** Whether a request came from a peer replica: no mark, a valid one, or one nobody should trust. */
export type ForwardingMark = "none" | "trusted" | "untrusted";

/** The spec's answer for a session that is not (or no longer) there: the client re-initializes. */
export function sessionNotFound(): Reply {
  return rejection(404, "session_not_found", "Session not found", { code: -32001 });
}

function storeUnavailable(): Reply {
  return rejection(
    503,
    "session_store_unavailable",
    "Service Unavailable: the session registry is unreachable",
    {
      headers: { "retry-after": "2" },
    },
  );
}

/**
 * Stateful mode across replicas: a session lives in the process that opened it, the registry says
 * which one that is, and a replica asked about a session it does not hold forwards the request
 * there, once. The owner authenticates the forwarded request itself, so load-balancer affinity is
 * an optimisation, never a requirement. When the owner is gone the client gets the spec's 404.
 */
export function createReplicaRouter(options: ReplicaRouterOptions) {
  const { registry, logger } = options;

  function markOf(request: InboundRequest, sessionId: string): ForwardingMark {
    const value = request.header(FORWARDED_HEADER);
    if (value === undefined) return "none";
    return verifyForwarded(options.keys, value, { method: request.method, path: request.path, sessionId })
      ? "trusted"
      : "untrusted";
  }

  async function forget(owner: string, sessionId: string, why: string): Promise<void> {
    try {
      await registry.remove(owner, sessionId);
    } catch (error) {
      logger.warn({ err: error, why }, "could not remove a stale session record");
    }
  }

  /**
   * A session id this replica does not hold. `mark` says whether a peer already forwarded the
   * request (then it goes nowhere else: one hop at most).
   */
  async function elsewhere(
    request: InboundRequest,
    parsed: ParsedMessage | undefined,
    principal: Principal,
    sessionId: string,
    mark: ForwardingMark,
    requestId: string,
  ): Promise<Reply> {
    if (!registry.shared) return sessionNotFound();
    let record;
    try {
      record = await registry.lookup(principal.id, sessionId);
    } catch (error) {
      logger.warn({ err: error, requestId }, "session registry lookup failed");
      return storeUnavailable();
    }
    if (record === undefined) return sessionNotFound();
    const self = options.replicaUrl();
    if (record.replica === self) {
      // Recorded here, but this process does not hold it: it restarted, or the session just closed.
      await forget(principal.id, sessionId, "not held by its recorded replica");
      return sessionNotFound();
    }
    if (mark === "trusted" || !/^https?:\/\//.test(record.replica)) return sessionNotFound();

    const outcome = await options.forward({
      target: record.replica,
      request,
      body: parsed === undefined ? undefined : JSON.stringify(parsed.message),
      headers: {
        [FORWARDED_HEADER]: signForwarded(options.keys, {
          method: request.method,
          path: request.path,
          sessionId,
        }),
        "x-request-id": requestId,
      },
    });
    switch (outcome.kind) {
      case "answered":
        return { kind: "web", response: outcome.response };
      case "unreachable":
        logger.info(
          { requestId, replica: record.replica, code: outcome.code },
          "the replica holding a session is gone; the client must re-initialize",
        );
        await forget(principal.id, sessionId, "owner unreachable");
        return sessionNotFound();
      case "failed":
        logger.warn(
          { requestId, replica: record.replica, code: outcome.code },
          "forwarding to the replica holding a session failed",
        );
        return rejection(
          502,
          "forwarding_failed",
          "Bad Gateway: the replica holding the session did not answer",
        );
    }
  }

  return { markOf, elsewhere };
}

export type ReplicaRouter = ReturnType<typeof createReplicaRouter>;
