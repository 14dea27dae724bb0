import {
  createRequestStateCodec,
  type RequestStateCodec,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { stateOf } from "../mcp/context.js";
import type { KeyRing } from "./key-ring.js";

/** How long a sealed `requestState` stays valid: one human answering an elicitation. */
export const REQUEST_STATE_TTL_SECONDS = 600;

/**
 * State a 2026-07-28 multi-round-trip request carries from one round to the next through the
 * client (`inputRequired({ requestState })`). It is signed (HMAC-SHA256, the SDK's
 * `createRequestStateCodec`) with the shared key ring, so the next round may land on any replica,
 * and bound to the principal and the method, so one user's state is refused for another.
 */
export interface RequestStateSealer {
  /** Seals `payload` (JSON data; readable by the client, never secret) for the request in `ctx`. */
  mint(payload: unknown, ctx: ServerContext): Promise<string>;
  /**
   * `ServerOptions.requestState.verify`: the payload, or a throw, which the SDK answers with the
   * JSON-RPC error `-32602 "Invalid or expired requestState"` (`data.reason: invalid_request_state`).
   */
  verify(state: string, ctx: ServerContext): Promise<unknown>;
}

/** The SDK codec's reason for a MAC that does not match: the state may be sealed with an older key. */
const WRONG_KEY = "mac";

function bindingOf(ctx: ServerContext): string {
  return `${ctx.mcpReq.method}\0${stateOf(ctx)?.principal.id ?? ""}`;
}

/**
 * One SDK codec per key: the current key seals, every key of the ring is tried in turn, but only
 * while the MAC is the problem. Expired or foreign (bound to someone else) state is refused at once.
 */
export function createRequestStateSealer(ring: KeyRing): RequestStateSealer {
  const codecs: readonly RequestStateCodec[] = ring
    .keys("request-state")
    .map((key) => createRequestStateCodec({ key, ttlSeconds: REQUEST_STATE_TTL_SECONDS, bind: bindingOf }));
  const current = codecs[0] as RequestStateCodec;
  return {
    mint: (payload, ctx) => current.mint(payload, ctx),
    async verify(state, ctx) {
      let failure: unknown;
      for (const codec of codecs) {
        try {
          return await codec.verify(state, ctx);
        } catch (error) {
          failure = error;
          if (!(error instanceof Error) || error.message !== WRONG_KEY) break;
        }
      }
      throw failure;
    },
  };
}
