import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type RunningServer } from "../../src/node/index.js";
import { testHost } from "../fixtures/hosts.js";

let running: RunningServer;
let logs: string[];

beforeAll(async () => {
  const made = testHost();
  logs = made.logs.lines;
  running = await serve(made.host, { port: 0, handleSignals: false });
});

afterAll(async () => {
  await running.close();
});

async function connect(era: "legacy" | "modern"): Promise<Client> {
  const client = new Client(
    { name: "it", version: "1.0.0" },
    era === "modern" ? { versionNegotiation: { mode: "auto" } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(running.url));
  return client;
}

describe.each(["legacy", "modern"] as const)("the official client over real HTTP, %s era", (era) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(era);
  });
  afterAll(async () => {
    await client.close();
  });

  it("negotiates the era's protocol version", () => {
    expect(client.getNegotiatedProtocolVersion()).toBe(era === "modern" ? "2026-07-28" : "2025-11-25");
  });

  it("lists the tools with their schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      "add",
      "echo",
      "fails",
      "hangs",
      "refuses",
      "slow_count",
    ]);
    const echo = tools.find((tool) => tool.name === "echo");
    expect(echo?.inputSchema).toMatchObject({
      type: "object",
      properties: { text: { type: "string" } },
      required: ["text"],
    });
    expect(tools.find((tool) => tool.name === "add")?.outputSchema).toMatchObject({
      properties: { sum: { type: "number" } },
    });
  });

  it("calls a tool", async () => {
    const result = await client.callTool({ name: "echo", arguments: { text: "héllo" } });
    expect(result.content).toEqual([{ type: "text", text: "héllo" }]);
    expect(result.isError).toBeUndefined();
  });

  it("returns structured content for a tool with an output schema", async () => {
    const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(result.structuredContent).toEqual({ sum: 5 });
  });

  it("streams progress notifications over SSE and then the result", async () => {
    const seen: number[] = [];
    const result = await client.callTool(
      { name: "slow_count", arguments: { n: 3, ms: 5 } },
      { onprogress: (progress) => seen.push(progress.progress) },
    );
    expect(seen).toEqual([1, 2, 3]);
    expect(result.content).toEqual([{ type: "text", text: "counted to 3" }]);
  });

  it("serves concurrent calls without mixing up answers (ids collide across clients)", async () => {
    const other = await connect(era);
    const calls = Array.from({ length: 40 }, (_, index) =>
      (index % 2 === 0 ? client : other).callTool({ name: "echo", arguments: { text: `n${index}` } }),
    );
    const results = await Promise.all(calls);
    results.forEach((result, index) => expect(result.content).toEqual([{ type: "text", text: `n${index}` }]));
    await other.close();
  });

  it("turns bad arguments into a tool error", async () => {
    const result = await client.callTool({ name: "echo", arguments: { text: 5 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("Input validation error");
  });

  it("shows a ToolError's message to the client", async () => {
    const result = await client.callTool({ name: "refuses", arguments: {} });
    expect(result).toMatchObject({
      isError: true,
      content: [{ type: "text", text: "No weather for Atlantis." }],
    });
  });

  it("never leaks a thrown error's message or stack, and logs it with the reference", async () => {
    const result = await client.callTool({ name: "fails", arguments: {} });
    expect(result.isError).toBe(true);
    const text = (result.content as { text: string }[])[0]?.text ?? "";
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("db.ts");
    const reference = /Reference: (\S+)$/.exec(text)?.[1];
    expect(reference).toBeDefined();
    expect(logs.some((line) => line.includes(reference!) && line.includes("hunter2"))).toBe(true);
  });

  it("rejects an unknown tool with a JSON-RPC error", async () => {
    await expect(client.callTool({ name: "nope", arguments: {} })).rejects.toThrow(/nope/);
  });

  it("serves resources and prompts", async () => {
    const { resources } = await client.listResources();
    expect(resources).toEqual([
      expect.objectContaining({ uri: "docs://readme", name: "readme", mimeType: "text/markdown" }),
    ]);
    const read = await client.readResource({ uri: "docs://readme" });
    expect(read.contents).toEqual([{ uri: "docs://readme", mimeType: "text/markdown", text: "# Hello" }]);
    const prompt = await client.getPrompt({ name: "greeting", arguments: { name: "Ada" } });
    expect(prompt.messages).toEqual([{ role: "user", content: { type: "text", text: "Say hello to Ada" } }]);
  });
});

describe("raw HTTP over a real socket", () => {
  it("answers a 2025-era request without a handshake (stateless)", async () => {
    const response = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "a",
        method: "tools/call",
        params: { name: "echo", arguments: { text: "x" } },
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      jsonrpc: "2.0",
      id: "a",
      result: { content: [{ type: "text", text: "x" }] },
    });
  });

  it("answers a notification with 202 and no body", async () => {
    const response = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("");
  });

  it("refuses a request head over maxHeaderBytes with 431 and stays healthy", async () => {
    const response = await fetch(running.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "x-big": "a".repeat(20_000),
      },
      body: "{}",
    });
    expect(response.status).toBe(431);
    expect((await fetch(new URL("/healthz", running.url))).status).toBe(200);
  });
});
