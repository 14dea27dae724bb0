import {
  SUPPORTED_PROTOCOL_VERSIONS,
  classifyInboundRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageClassification,
} from "@modelcontextprotocol/server";
import type { InboundRequest, Reply } from "../http/exchange.js";
import { JSONRPC_INVALID_REQUEST, JSONRPC_PARSE_ERROR, rejection } from "../http/responses.js";
import { checkModernHeaders, nameOf } from "./standard-headers.js";

/** A POST body that passed stage 8: one JSON-RPC message, its era known. */
export type ParsedMessage =
  | {
      readonly era: "modern";
      readonly kind: "request";
      readonly message: JSONRPCRequest;
      readonly classification: MessageClassification;
      /** Tool or prompt name, or resource URI, for authorization and telemetry. */
      readonly target: string | undefined;
    }
  | {
      readonly era: "modern";
      readonly kind: "notification";
      readonly message: JSONRPCMessage;
      readonly classification: MessageClassification;
    }
  | {
      readonly era: "legacy";
      readonly kind: "request";
      readonly message: JSONRPCRequest;
      readonly target: string | undefined;
    }
  | { readonly era: "legacy"; readonly kind: "notification" | "response"; readonly message: JSONRPCMessage };

const LEGACY_VERSIONS = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

function idOf(body: unknown): string | number | null {
  if (typeof body !== "object" || body === null) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/**
 * Pipeline stage 8: the body is parsed exactly once, batches are refused (removed from the protocol
 * in 2025-06-18), the SDK's classifier decides the era and checks header/body agreement, and the
 * protocol version is checked.
 */
export function parseMessage(request: InboundRequest, text: string): ParsedMessage | Reply {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return rejection(400, "parse_error", "Parse error: the body is not valid JSON", {
      code: JSONRPC_PARSE_ERROR,
    });
  }
  if (Array.isArray(body)) {
    return rejection(400, "batch_not_supported", "Invalid Request: JSON-RPC batches are not supported", {
      code: JSONRPC_INVALID_REQUEST,
    });
  }
  if (typeof body !== "object" || body === null || (body as { jsonrpc?: unknown }).jsonrpc !== "2.0") {
    return rejection(400, "invalid_request", "Invalid Request: the body must be one JSON-RPC 2.0 message", {
      code: JSONRPC_INVALID_REQUEST,
      id: idOf(body),
    });
  }

  const protocolVersionHeader = request.header("mcp-protocol-version");
  const mcpMethodHeader = request.header("mcp-method");
  const mcpNameHeader = request.header("mcp-name");
  const outcome = classifyInboundRequest({
    httpMethod: "POST",
    body,
    ...(protocolVersionHeader !== undefined && { protocolVersionHeader }),
    ...(mcpMethodHeader !== undefined && { mcpMethodHeader }),
    ...(mcpNameHeader !== undefined && { mcpNameHeader }),
  });

  if (outcome.kind === "reject") {
    return rejection(
      outcome.httpStatus,
      outcome.code === -32020 ? "header_mismatch" : "invalid_request",
      outcome.message,
      {
        code: outcome.code,
        id: idOf(body),
        ...(outcome.data !== undefined && { data: { detail: outcome.data } }),
      },
    );
  }

  if (outcome.kind === "modern") {
    if (outcome.messageKind === "notification") {
      return {
        era: "modern",
        kind: "notification",
        message: outcome.message,
        classification: outcome.classification,
      };
    }
    const headerProblem = checkModernHeaders(request, outcome.message);
    if (headerProblem !== undefined) return headerProblem;
    return {
      era: "modern",
      kind: "request",
      message: outcome.message,
      classification: outcome.classification,
      target: nameOf(outcome.message),
    };
  }

  // 2025 era. The transport spec: an unsupported MCP-Protocol-Version MUST get 400.
  if (protocolVersionHeader !== undefined && !LEGACY_VERSIONS.has(protocolVersionHeader)) {
    return rejection(
      400,
      "unsupported_protocol_version",
      `Bad Request: unsupported protocol version ${protocolVersionHeader}`,
      {
        id: idOf(body),
        data: { supported: [...SUPPORTED_PROTOCOL_VERSIONS] },
      },
    );
  }
  const message = body as JSONRPCMessage;
  if ("method" in message && "id" in message) {
    return { era: "legacy", kind: "request", message, target: nameOf(message) };
  }
  return { era: "legacy", kind: "method" in message ? "notification" : "response", message };
}
