import type { JSONRPCRequest } from "@modelcontextprotocol/server";
import type { InboundRequest, Reply } from "../http/exchange.js";
import { rejection } from "../http/responses.js";

/** JSON-RPC code the SDK uses when the standard request headers and the body disagree (SEP-2243). */
export const HEADER_MISMATCH = -32020;

/** Methods whose `Mcp-Name` header mirrors a body field (SEP-2243, Standard Request Headers). */
const NAME_SOURCE: Readonly<Record<string, "name" | "uri">> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
};

const SENTINEL_PREFIX = "=?base64?";
const SENTINEL_SUFFIX = "?=";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A header value may carry non-ASCII text as `=?base64?…?=`; `undefined` for a broken sentinel. */
function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX))) return value;
  const payload = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(payload)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(payload, "base64"));
  } catch {
    return undefined;
  }
}

function mismatch(header: string, message: string, id: JSONRPCRequest["id"]): Reply {
  return rejection(400, "header_mismatch", `Bad Request: the request headers and body disagree: ${message}`, {
    code: HEADER_MISMATCH,
    id,
    data: { mismatch: { header, body: message } },
  });
}

/** The value the `Mcp-Name` header must carry for this request, if its method has one. */
export function nameOf(message: JSONRPCRequest): string | undefined {
  const field = NAME_SOURCE[message.method];
  if (field === undefined) return undefined;
  const value = (message.params as Record<string, unknown> | undefined)?.[field];
  return typeof value === "string" ? value : undefined;
}

/**
 * The presence half of the 2026-07-28 standard headers (the SDK's classifier already rejects a
 * header that contradicts the body): `MCP-Protocol-Version` and `Mcp-Method` on every request, and
 * `Mcp-Name` equal to the tool/prompt name or resource URI.
 */
export function checkModernHeaders(request: InboundRequest, message: JSONRPCRequest): Reply | undefined {
  if (request.header("mcp-protocol-version") === undefined) {
    return mismatch("(missing)", "the required MCP-Protocol-Version header is absent", message.id);
  }
  if (request.header("mcp-method") === undefined) {
    return mismatch(
      "(missing)",
      `the body names method ${message.method} but the required Mcp-Method header is absent`,
      message.id,
    );
  }
  if (NAME_SOURCE[message.method] === undefined) return undefined;
  const expected = nameOf(message);
  // Only SP and HTAB are optional whitespace (RFC 9110 §5.5): `trim()` would also drop U+00A0, so
  // `Mcp-Name: delete_all<NBSP>` (which a gateway's rule for `delete_all` misses) would pass as a match.
  const header = request.header("mcp-name")?.replace(/^[\t ]+|[\t ]+$/g, "");
  if (header === undefined) {
    return expected === undefined
      ? undefined
      : mismatch("(missing)", "the required Mcp-Name header is absent", message.id);
  }
  const decoded = decodeHeaderValue(header);
  if (decoded === undefined)
    return mismatch(header, "the Mcp-Name header carries an invalid Base64 sentinel value", message.id);
  if (expected !== undefined && decoded !== expected) {
    return mismatch(
      header,
      `the body names "${expected}" but the Mcp-Name header names "${decoded}"`,
      message.id,
    );
  }
  return undefined;
}
