import type { RequestId, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { stateFromAuthInfo } from "../mcp/context.js";
import type { Operation, Operations } from "../telemetry/operation.js";

/**
 * Operation spans and metrics for a stateful session's messages: the SDK's own transport answers
 * them, so its `onmessage` and `send` are wrapped (after `connect`, outermost) the way
 * `filterLists` does. Each request's operation starts as the SDK receives it, with the span active
 * while the SDK handles it, and ends with its response; one still open when the session closes is
 * abandoned.
 */
export function instrumentSession(
  transport: WebStandardStreamableHTTPServerTransport,
  operations: Operations,
  protocolVersion: string,
): void {
  const pending = new Map<RequestId, Operation>();
  const inbound = transport.onmessage;
  if (inbound === undefined) return;
  transport.onmessage = (message, extra) => {
    const state = stateFromAuthInfo(extra?.authInfo);
    const op =
      state !== undefined && "method" in message
        ? operations.start(state, message, protocolVersion, transport.sessionId)
        : undefined;
    if (op === undefined) {
      inbound(message, extra);
      return;
    }
    if ("id" in message && message.id !== undefined) {
      pending.set(message.id, op);
      op.run(inbound, undefined, message, extra);
    } else {
      op.run(inbound, undefined, message, extra);
      op.finish();
    }
  };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (("result" in message || "error" in message) && message.id !== undefined) {
      const op = pending.get(message.id);
      if (op !== undefined) {
        pending.delete(message.id);
        op.finish(message);
      }
    }
    return send(message, options);
  };
  const closed = transport.onclose;
  transport.onclose = () => {
    for (const op of pending.values()) op.abandon("shutdown");
    pending.clear();
    closed?.();
  };
}
