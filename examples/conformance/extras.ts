import type { McpHostOptions } from "paved-mcp";

/**
 * What Paved's definitions do not express, registered through the `factory` escape hatch on every
 * SDK server the host builds (in stateful mode: one per session, so the subscription set below is
 * per session):
 *
 * - the `logging` capability, which makes the SDK answer `logging/setLevel` and lets tools send
 *   `notifications/message` through `ctx.mcp.mcpReq.log`;
 * - resource subscriptions (`resources/subscribe` and `resources/unsubscribe`).
 *
 * Completions need nothing here: `completable()` prompt arguments make the SDK serve them.
 */
export const registerExtras: NonNullable<McpHostOptions["factory"]> = (server, { era }) => {
  server.server.registerCapabilities({ logging: {} });
  // 2026-07-28 has no resources/subscribe (clients listen with subscriptions/listen instead).
  if (era === "modern") return;
  server.server.registerCapabilities({ resources: { subscribe: true } });
  // The watched resource never changes; a real server would send `server.server.sendResourceUpdated`
  // for the URIs in this set when they do.
  const subscribed = new Set<string>();
  server.server.setRequestHandler("resources/subscribe", (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler("resources/unsubscribe", (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
};
