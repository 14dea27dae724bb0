import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createMcpHost, defineTool, type McpHost } from "../../../src/index.js";
import { endpointOf } from "../../../src/testing/index.js";

/** Asks the client for a name through the SDK context, on this request's own stream. */
const askName = defineTool({
  name: "ask_name",
  sdkContext: true,
  description: "Asks the user for their name",
  input: { greeting: z.string().default("Hello") },
  handler: async ({ greeting }, ctx) => {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the 2025-era push style is what these clients speak
    const answer = await ctx.mcp.mcpReq.elicitInput({
      message: "What is your name?",
      requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    });
    return answer.action === "accept" ? `${greeting}, ${String(answer.content?.["name"])}` : "declined";
  },
});

let host: McpHost;
afterEach(async () => {
  await host.close();
});

async function clientFor(): Promise<Client> {
  const client = new Client(
    { name: "elicit", version: "1" },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler("elicitation/create", () => ({ action: "accept", content: { name: "Ada" } }));
  await client.connect(
    new StreamableHTTPClientTransport(endpointOf(host), {
      fetch: (input, init) => host.fetch(new Request(input, init)),
    }),
  );
  return client;
}

describe("server-to-client requests travel on the calling request's stream", () => {
  it.each([
    ["stateless", true],
    ["stateful, before any GET stream is open", false],
  ])("elicitation works %s", async (_label, stateless) => {
    host = createMcpHost({
      server: { name: "e", version: "1" },
      tools: [askName],
      insecureNoAuth: true,
      config: { server: { stateless }, telemetry: { logLevel: "silent" } },
    });
    const client = await clientFor();
    const started = Date.now();
    const result = await client.callTool({ name: "ask_name", arguments: {} });
    expect(result.content).toEqual([{ type: "text", text: "Hello, Ada" }]);
    expect(Date.now() - started).toBeLessThan(5_000);
    await client.close();
  });
});
