import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type RunningServer } from "../../src/node/index.js";
import { testHost } from "../fixtures/hosts.js";

let running: RunningServer;
beforeAll(async () => {
  running = await serve(testHost({ server: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } }).host, {
    port: 0,
    handleSignals: false,
  });
});
afterAll(async () => {
  await running.close();
});

/** Writes `chunks` slowly and returns what the server sent before closing (bounded by `limitMs`). */
function trickle(
  chunks: readonly string[],
  gapMs: number,
  limitMs: number,
): Promise<{ data: string; elapsed: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(running.port, "127.0.0.1");
    let data = "";
    let index = 0;
    const timer = setInterval(() => {
      if (index < chunks.length && !socket.destroyed) socket.write(chunks[index++] ?? "");
    }, gapMs);
    const guard = setTimeout(() => socket.destroy(), limitMs);
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(guard);
      resolve({ data, elapsed: Date.now() - started });
    });
    socket.on("error", () => undefined);
  });
}

describe("slow clients", () => {
  it("a client that never finishes its headers is answered 408 and disconnected after headersTimeoutMs", async () => {
    const chunks = [
      "POST /mcp HTTP/1.1\r\n",
      "Host: localhost\r\n",
      ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: a\r\n`),
    ];
    const { data, elapsed } = await trickle(chunks, 200, 8000);
    expect(data).toMatch(/^HTTP\/1\.1 408/);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(5000);
  });

  it("a client that trickles its body is cut off after requestTimeoutMs", async () => {
    const head =
      "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n";
    const { elapsed } = await trickle([head, ...Array.from({ length: 60 }, () => "x")], 100, 9000);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(6000);
    expect((await fetch(new URL("/healthz", running.url))).status).toBe(200);
  });
});
