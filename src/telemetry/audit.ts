import type { Logger } from "./logger.js";
import type { ToolOutcome } from "./metrics.js";

/** What every audit line carries besides its event: the request, where it came from, its trace. */
export interface AuditContext {
  readonly requestId: string;
  readonly remoteAddress: string | undefined;
  /** The W3C trace id, when the request is traced. */
  readonly traceId: string | undefined;
}

/** Which rule refused access: the endpoint's, a tool's (prompt's, resource's), the hook's, or the client application allow-list. */
export type AccessRuleKind = "endpoint" | "tool" | "prompt" | "resource" | "hook" | "client_app";

/**
 * The audit events. A security team reads these: each says who, what and why, and none ever holds
 * a token, an assertion, a secret, or tool arguments.
 */
export type AuditEvent =
  | {
      /** Stage 5 refused the request. `reason`: `missing_token`, `expired`, `audience`, `signature`, … */
      readonly event: "auth.failed";
      readonly reason: string;
      readonly status: number;
    }
  | {
      /** Stage 6 or 9 refused an authenticated caller. */
      readonly event: "access.denied";
      readonly principalId: string;
      readonly rule: AccessRuleKind;
      /** The tool or prompt name, or resource URI, when a rule of one refused. */
      readonly target: string | undefined;
      /** Scopes that would have admitted the caller (any one of them), and roles likewise. Empty: a policy refused. */
      readonly missingScopes: readonly string[];
      readonly missingRoles: readonly string[];
      readonly status: number;
    }
  | {
      /** A rate limit refused the request (stages 4 and 7). */
      readonly event: "rate_limited";
      readonly policy: string;
      readonly principalId: string | undefined;
      readonly status: 429;
    }
  | {
      /** A tool call reached its handler and ended. */
      readonly event: "tool.invoked";
      readonly principalId: string;
      readonly tool: string;
      readonly outcome: ToolOutcome;
      readonly durationMs: number;
    };

const MESSAGES: Readonly<Record<AuditEvent["event"], string>> = {
  "auth.failed": "authentication failed",
  "access.denied": "access denied",
  rate_limited: "rate limited",
  "tool.invoked": "tool invoked",
};

/** Writes audit events to their own stream (see `createAuditLogger`). */
export interface AuditLog {
  record(context: AuditContext, event: AuditEvent): void;
}

/** One JSON line per event: `{ stream: "audit", event, requestId, trace_id, remoteAddress, … }`. */
export function createAuditLog(logger: Logger): AuditLog {
  return {
    record(context, event) {
      logger.info(
        {
          ...event,
          requestId: context.requestId,
          ...(context.remoteAddress !== undefined && { remoteAddress: context.remoteAddress }),
          ...(context.traceId !== undefined && { trace_id: context.traceId }),
        },
        MESSAGES[event.event],
      );
    },
  };
}
