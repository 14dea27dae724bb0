import type { AuthInfo } from "@modelcontextprotocol/server";
import type { ClientLink, InboundRequest, Reply } from "../http/exchange.js";
import { oauthReply } from "../http/responses.js";
import type { RequestState } from "../mcp/context.js";
import type { ParsedMessage } from "../mcp/parse.js";
import type { ClaimsChallengeError } from "./errors.js";

/** Claims challenges raised while a request ran, by its request state (one object per request). */
const pending = new WeakMap<object, ClaimsChallengeError>();

/** A tool's downstream call hit a claims challenge its caller's client can handle (`xms_cc` has `cp1`). */
export function recordClaimsChallenge(state: object, error: ClaimsChallengeError): void {
  pending.set(state, error);
}

/** RFC 6750 §3 auth-param values: no quotes, backslashes or control characters. */
const clean = (value: string): string => value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "");

type Dispatch = (
  parsed: ParsedMessage,
  authInfo: AuthInfo,
  state: RequestState,
  client: ClientLink,
) => Reply | Promise<Reply>;

/**
 * Wraps pipeline stage 11 so that a claims challenge from a downstream call answers the MCP request
 * with HTTP 401 and `WWW-Authenticate: Bearer error="insufficient_claims", claims="…"` (OBO-11): the
 * client signs in again with those claims and retries. Only for answers still held in memory; once a
 * response stream has started, the tool error already sent stands. Installed only when on-behalf-of
 * is configured, so other servers pay nothing per request.
 */
export function withClaimsChallenges(
  dispatch: Dispatch,
  resourceMetadataUrl: (request: InboundRequest) => string | undefined,
): Dispatch {
  const answer = (reply: Reply, state: RequestState): Reply => {
    const challenge = pending.get(state);
    if (challenge === undefined || reply.kind !== "body") return reply;
    pending.delete(state);
    const metadata = state.request === undefined ? undefined : resourceMetadataUrl(state.request);
    const params = [
      `error="insufficient_claims"`,
      `claims="${clean(challenge.claims)}"`,
      ...(metadata === undefined ? [] : [`resource_metadata="${clean(metadata)}"`]),
    ];
    return oauthReply(401, "insufficient_claims", challenge.message, {
      "www-authenticate": `Bearer ${params.join(", ")}`,
    });
  };
  return (parsed, authInfo, state, client) => {
    const reply = dispatch(parsed, authInfo, state, client);
    return reply instanceof Promise ? reply.then((value) => answer(value, state)) : answer(reply, state);
  };
}
