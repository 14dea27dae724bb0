/**
 * The bench side of a server process (each file under bench/servers/ calls `announce`): tells the
 * harness its URL over IPC, then answers the harness's control messages. Only these bench files
 * have the GC trigger; the library has no such hook.
 *
 *   { type: "mark" }    start a CPU-time window
 *   { type: "report" }  → { type: "report", cpuMicros, rss, heapUsed } since the mark
 *   { type: "gc" }      full collections (the process runs with --expose-gc) → { type: "gc", rss, heapUsed }
 *   { type: "stop" }    close and exit
 */
import process from "node:process";

/** The server's options: JSON in argv[2] (see bench/lib/processes.mjs). */
export function serverArgs() {
  return JSON.parse(process.argv[2] ?? "{}");
}

function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Reports `url` to the harness and serves its control messages; `close` stops the server. */
export function announce(url, close, extra = {}) {
  let mark = process.cpuUsage();
  process.on("message", async (message) => {
    switch (message?.type) {
      case "mark":
        mark = process.cpuUsage();
        process.send({ type: "marked" });
        break;
      case "report": {
        const used = process.cpuUsage(mark);
        const memory = process.memoryUsage();
        process.send({
          type: "report",
          cpuMicros: used.user + used.system,
          rss: memory.rss,
          heapUsed: memory.heapUsed,
        });
        break;
      }
      case "gc": {
        // Several passes with turns of the event loop in between, so finalizers and weak
        // references released by one pass are collected by the next.
        for (let pass = 0; pass < 4; pass++) {
          globalThis.gc?.();
          await settle();
        }
        // V8 hands freed pages back to the system shortly after a collection, not during it.
        await new Promise((resolve) => setTimeout(resolve, message.settleMs ?? 0));
        globalThis.gc?.();
        const memory = process.memoryUsage();
        process.send({
          type: "gc",
          rss: memory.rss,
          heapUsed: memory.heapUsed,
          gc: globalThis.gc !== undefined,
        });
        break;
      }
      case "stop":
        try {
          await close();
        } finally {
          process.exit(0);
        }
        break;
      default:
        break;
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ type: "ready", url, ...extra });
}

/** A tool's text for the echo workloads, identical on every server. */
export const ECHO_TEXT = "hello";

/** `count` tool names for the tools/list workload: `echo` plus `tool_01`… */
export function toolNames(count) {
  const names = ["echo"];
  for (let index = 1; names.length < count; index++) names.push(`tool_${String(index).padStart(2, "0")}`);
  return names;
}
