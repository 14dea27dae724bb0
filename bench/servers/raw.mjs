/**
 * The ceiling: bare `node:http` answering every POST with a fixed JSON-RPC result. No MCP, no
 * validation, no security. What loopback HTTP costs on this machine.
 */
import { createServer } from "node:http";
import { announce, ECHO_TEXT, serverArgs, toolNames } from "../lib/server-kit.mjs";

const { tools = 1 } = serverArgs();
// The answer the MCP servers give, precomputed: an echo result, or a list of `tools` tools.
const result =
  tools > 1
    ? {
        tools: toolNames(tools).map((name) => ({
          name,
          description: `Echo the text back (${name})`,
          inputSchema: {
            type: "object",
            properties: { text: { type: "string", maxLength: 10_000 } },
            required: ["text"],
          },
        })),
      }
    : { content: [{ type: "text", text: ECHO_TEXT }] };
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, result });

const server = createServer((req, res) => {
  // Read the body as any server must, then answer the fixed result.
  req.on("data", () => undefined);
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
    res.end(BODY);
  });
});
server.listen(0, "127.0.0.1", () => {
  announce(
    `http://127.0.0.1:${server.address().port}/mcp`,
    () => new Promise((resolve) => server.close(() => resolve())),
  );
});
