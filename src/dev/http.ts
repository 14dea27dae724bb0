import type { IncomingMessage, ServerResponse } from "node:http";
import { DevOAuthError } from "./oauth-error.js";

/** Largest request body the provider reads: forms and registrations are tiny. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The body as text, or `undefined` when it exceeds `limit` bytes (the caller answers 413). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * An `application/x-www-form-urlencoded` body. RFC 6749 §3.2: parameters "MUST NOT be included
 * more than once", except the ones listed in `repeatable` (the consent form's checkboxes).
 */
export function parseForm(
  req: IncomingMessage,
  body: string,
  repeatable: readonly string[] = [],
): URLSearchParams {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new DevOAuthError(
      "invalid_request",
      900561,
      "The request body must be application/x-www-form-urlencoded.",
    );
  }
  const form = new URLSearchParams(body);
  const seen = new Set<string>();
  for (const key of form.keys()) {
    if (seen.has(key) && !repeatable.includes(key))
      throw new DevOAuthError("invalid_request", 90014, `The parameter '${key}' is included more than once.`);
    seen.add(key);
  }
  return form;
}

/** A parameter that must be present and non-empty. */
export function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === "")
    throw new DevOAuthError(
      "invalid_request",
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    );
  return value;
}

/** An optional parameter; empty counts as absent. */
export function optional(form: URLSearchParams, name: string): string | undefined {
  const value = form.get(name);
  return value === null || value === "" ? undefined : value;
}

/** JSON endpoints are read by browser-based clients (MCP Inspector) too: CORS without credentials. */
const CORS = { "access-control-allow-origin": "*" } as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    pragma: "no-cache",
    "x-content-type-options": "nosniff",
    ...CORS,
    ...headers,
  });
  res.end(text);
}

/** RFC 6749 §5.2 error body; `invalid_client` with Basic credentials also gets a Basic challenge. */
export function sendOAuthError(res: ServerResponse, error: DevOAuthError, usedBasic = false): void {
  sendJson(
    res,
    error.status,
    error.body(),
    error.status === 401 && usedBasic ? { "www-authenticate": 'Basic realm="paved-dev-idp"' } : {},
  );
}

/** CORS preflight for the JSON endpoints. */
export function sendPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    ...CORS,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, mcp-protocol-version",
    "access-control-max-age": "600",
  });
  res.end();
}

export function sendStatus(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(message);
}
