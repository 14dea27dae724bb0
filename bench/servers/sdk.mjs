/**
 * The baseline: the official SDK v2's recommended stateless Node setup, `createMcpHandler` +
 * `toNodeHandler` on `node:http`, schemas at module scope as the SDK's docs advise. No
 * authentication, no Host/Origin validation, no rate limits, no telemetry: the SDK bare.
 */
import { createServer } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { announce, serverArgs, toolNames } from "../lib/server-kit.mjs";

const { tools = 1, slowMs = 0 } = serverArgs();
const NAMES = toolNames(tools);

// Module scope, once: the SDK's performance advice for per-request servers.
const EchoInput = z.object({ text: z.string().max(10_000) });
const SlowInput = z.object({});

function factory() {
  const server = new McpServer({ name: "bench-sdk", version: "1.0.0" }, { capabilities: { tools: {} } });
  for (const name of NAMES) {
    server.registerTool(
      name,
      { description: `Echo the text back (${name})`, inputSchema: EchoInput },
      async ({ text }) => ({ content: [{ type: "text", text }] }),
    );
  }
  if (slowMs > 0) {
    server.registerTool("slow", { description: "Waits, then answers", inputSchema: SlowInput }, async () => {
      await new Promise((resolve) => setTimeout(resolve, slowMs));
      return { content: [{ type: "text", text: "done" }] };
    });
  }
  return server;
}

const handler = createMcpHandler(factory);
const listener = toNodeHandler(handler);
const server = createServer((req, res) => {
  void listener(req, res);
});
server.listen(0, "127.0.0.1", () => {
  announce(`http://127.0.0.1:${server.address().port}/mcp`, async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve()));
    await handler.close();
  });
});
