/**
 * The requests each workload sends, and the check that a server answered it correctly. Bodies and
 * headers are the same for every server (authorization is added for servers that require it).
 */
export const MODERN = "2026-07-28";
export const LEGACY = "2025-11-25";

const BASE_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

const ECHO = { name: "echo", arguments: { text: "hello" } };

/** The per-request `_meta` envelope a 2026-07-28 request carries. */
const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
};

const isEcho = (result) => result?.content?.[0]?.text === "hello" && result.isError !== true;

export const WORKLOADS = {
  "call-modern": {
    title: "tools/call 2026-07-28",
    tools: 1,
    headers: {
      ...BASE_HEADERS,
      "mcp-protocol-version": MODERN,
      "mcp-method": "tools/call",
      "mcp-name": "echo",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { ...ECHO, _meta: MODERN_META },
    }),
    check: isEcho,
  },
  "call-2025": {
    title: "tools/call 2025-11-25 stateless",
    tools: 1,
    headers: { ...BASE_HEADERS, "mcp-protocol-version": LEGACY },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: ECHO }),
    check: isEcho,
  },
  "list-50": {
    title: "tools/list, 50 tools (2025-11-25)",
    tools: 50,
    headers: { ...BASE_HEADERS, "mcp-protocol-version": LEGACY },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    check: (result) => Array.isArray(result?.tools) && result.tools.length === 50,
  },
};

/** The JSON-RPC response in a reply body: plain JSON, or the last `data:` line of an SSE stream. */
export function responseOf(text, contentType) {
  if (!(contentType ?? "").includes("text/event-stream")) return JSON.parse(text);
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trim())
    .filter((line) => line !== "");
  return JSON.parse(data.at(-1) ?? "null");
}

/**
 * Sends the workload's request once and checks the answer (HTTP 200, the right JSON-RPC result);
 * resolves `undefined` when correct, else what went wrong.
 */
export async function checkOnce(url, workload, token) {
  const headers = { ...workload.headers, ...(token !== undefined && { authorization: `Bearer ${token}` }) };
  try {
    const response = await fetch(url, { method: "POST", headers, body: workload.body });
    const text = await response.text();
    if (response.status !== 200) return `HTTP ${response.status}: ${text.slice(0, 200)}`;
    const message = responseOf(text, response.headers.get("content-type"));
    if (message?.error !== undefined) return `JSON-RPC error: ${JSON.stringify(message.error).slice(0, 200)}`;
    return workload.check(message?.result) ? undefined : `unexpected result: ${text.slice(0, 200)}`;
  } catch (error) {
    return `request failed: ${error.message}`;
  }
}
