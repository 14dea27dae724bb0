import type { InboundRequest } from "../http/exchange.js";

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Tokens larger than this are refused before any parsing or crypto (a JWT from Entra is a few KiB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export type BearerResult =
  | { readonly kind: "token"; readonly token: string }
  /** No credentials at all, or a scheme other than Bearer: challenge without an error code (RFC 6750 §3.1). */
  | { readonly kind: "missing" }
  /** Malformed or repeated credentials, or a token in the query as well as the header: 400 `invalid_request`. */
  | { readonly kind: "invalid_request"; readonly description: string }
  /** Syntactically a bearer credential, but not a usable token: 401 `invalid_token`. */
  | { readonly kind: "invalid_token"; readonly description: string };

function queryHasToken(search: string): boolean {
  return search !== "" && new URLSearchParams(search).has("access_token");
}

/**
 * Extracts the bearer token from the `Authorization` header: the only place Paved reads tokens from.
 * MCP forbids tokens in the query string, so one there is never read: alone it counts as no
 * credentials at all (AUTH-06), next to a header it is a second method (AUTH-05, 400).
 */
export function extractBearer(request: InboundRequest): BearerResult {
  const values = request.headerValues("authorization");
  if (values.length > 1)
    return { kind: "invalid_request", description: "More than one Authorization header" };
  const value = values[0] ?? request.header("authorization");
  const inQuery = queryHasToken(request.search);
  if (value === undefined) return { kind: "missing" };
  if (inQuery)
    return { kind: "invalid_request", description: "More than one method of sending the access token" };
  const space = value.indexOf(" ");
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") return { kind: "missing" };
  const token = value.slice(space + 1).replace(/^ +/, "");
  if (space < 0 || token === "")
    return { kind: "invalid_request", description: "The Bearer credentials are empty" };
  if (token.length > MAX_TOKEN_LENGTH)
    return { kind: "invalid_token", description: "The access token is too large" };
  if (!B64TOKEN.test(token)) return { kind: "invalid_token", description: "The access token is malformed" };
  return { kind: "token", token };
}
