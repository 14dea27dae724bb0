import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, type McpHost } from "../../../src/index.js";
import { MCP_HEADERS, rpc, testHost } from "../../fixtures/hosts.js";

let host: McpHost;
afterEach(async () => {
  await host.close();
});

describe("request deadline and cancellation", () => {
  it("aborts a hanging tool's signal at the deadline and answers -32001", async () => {
    let aborted = false;
    const stuck = defineTool({
      name: "stuck",
      description: "hangs until aborted",
      handler: (_args, ctx) =>
        new Promise<string>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
            resolve("late");
          });
        }),
    });
    ({ host } = testHost({ server: { requestDeadlineMs: 1000 } }, { tools: [stuck] }));
    const started = Date.now();
    const response = await host.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: MCP_HEADERS,
        body: rpc("tools/call", { name: "stuck", arguments: {} }, 9),
      }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      jsonrpc: "2.0",
      id: 9,
      error: { code: -32001, message: "Request timed out after 1000 ms" },
    });
    expect(aborted).toBe(true);
  });

  it("aborts the tool's signal when the client disconnects", async () => {
    let resolveAborted: (value: string) => void = () => undefined;
    const abortedReason = new Promise<string>((resolve) => (resolveAborted = resolve));
    const waits = defineTool({
      name: "waits",
      description: "waits for its signal",
      input: { id: z.string() },
      handler: (_args, ctx) =>
        new Promise<string>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            resolveAborted("aborted");
            resolve("never seen");
          });
        }),
    });
    ({ host } = testHost({}, { tools: [waits] }));
    const controller = new AbortController();
    const pending = host.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: MCP_HEADERS,
        body: rpc("tools/call", { name: "waits", arguments: { id: "x" } }),
        signal: controller.signal,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await abortedReason).toBe("aborted");
    expect((await pending).status).toBe(499);
  });

  it("answers 503 to requests after close and cancels those in flight", async () => {
    ({ host } = testHost());
    const inFlight = host.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: MCP_HEADERS,
        body: rpc("tools/call", { name: "hangs", arguments: {} }, 3),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    await host.close();
    const cancelled = await inFlight;
    expect(cancelled.status).toBe(503);
    expect(await cancelled.json()).toEqual({
      jsonrpc: "2.0",
      id: 3,
      error: { code: -32000, message: "The server is shutting down" },
    });
    const after = await host.fetch(
      new Request("http://localhost/mcp", { method: "POST", headers: MCP_HEADERS, body: rpc("ping") }),
    );
    expect(after.status).toBe(503);
  });
});
