#!/usr/bin/env node
/**
 * The throughput cost of telemetry: the same host serves `tools/call` over loopback with
 *
 *   off     no OpenTelemetry SDK registered (the API is a no-op), audit log off
 *   audit   no SDK, audit log on (the default: one `tool.invoked` line per call)
 *   on      the OpenTelemetry Node SDK (traces: batch span processor; metrics: periodic reader;
 *           both exporting to a sink that drops them, so no network is measured) + audit log
 *
 * Each server runs in its own process (the SDK registers process-wide), autocannon drives it from
 * this one, cases alternate for `BENCH_ROUNDS` rounds and the best round counts. Besides
 * throughput it prints the server's CPU time per request, which a busy machine disturbs less. A
 * benchmark, not a test: it prints numbers and ratios and never fails on them.
 *
 *   npm run bench:telemetry
 *   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32 npm run bench:telemetry
 */
import { fork } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CASES = ["off", "audit", "on"];
const TOKEN = "bench-token";

async function serve(mode) {
  const { z } = await import("zod");
  const { createMcpHost, defineTool } = await import("../dist/index.js");
  const { serve: listen } = await import("../dist/node/index.js");
  if (mode === "on") {
    const { NodeSDK, metrics } = await import("@opentelemetry/sdk-node");
    const sink = {
      export: (_items, done) => done({ code: 0 }),
      shutdown: () => Promise.resolve(),
      forceFlush: () => Promise.resolve(),
    };
    new NodeSDK({
      serviceName: "bench",
      traceExporter: sink,
      metricReaders: [
        new metrics.PeriodicExportingMetricReader({ exporter: sink, exportIntervalMillis: 10_000 }),
      ],
      logRecordProcessors: [],
    }).start();
  }
  const echo = defineTool({
    name: "echo",
    description: "Echo",
    input: { text: z.string() },
    handler: ({ text }) => text,
  });
  const principal = { id: "t1:bench", scopes: [], roles: [], isAppOnly: false, claims: {} };
  const host = createMcpHost({
    config: {
      // Rate limits off: every call must reach the tool.
      server: { maxRequestsPerMinutePerUser: 0, maxRequestsPerMinutePerClientAddress: 0 },
      telemetry: { logLevel: "warn", auditLog: mode === "off" ? "off" : "log" },
    },
    server: { name: "bench", version: "1.0.0" },
    tools: [echo],
    tokenValidator: {
      validate: (token) =>
        token === TOKEN
          ? Promise.resolve({ principal, expiresAt: Math.floor(Date.now() / 1000) + 3600 })
          : Promise.reject(new Error("bad token")),
    },
  });
  const running = await listen(host, { port: 0, host: "127.0.0.1", handleSignals: false });
  process.send?.({ url: running.url.href });
  let mark = process.cpuUsage();
  process.on("message", (message) => {
    if (message === "mark") mark = process.cpuUsage();
    else if (message === "report") {
      const used = process.cpuUsage(mark);
      process.send?.({ cpuMicros: used.user + used.system });
    } else void running.close().then(() => process.exit(0));
  });
}

/** Sends `message` to the server and waits for its answer. */
function ask(child, message) {
  return new Promise((resolve) => {
    child.once("message", resolve);
    child.send(message);
  });
}

async function measure(autocannon, mode) {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", mode], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const url = await new Promise((resolve, reject) => {
    child.once("message", (message) => resolve(message.url));
    child.once("exit", (code) => reject(new Error(`the ${mode} server exited (${code})`)));
  });
  const options = {
    url,
    method: "POST",
    connections: CONNECTIONS,
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${TOKEN}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "hello" } },
    }),
  };
  await autocannon({ ...options, duration: 1 }); // warm-up
  child.send("mark");
  const result = await autocannon({ ...options, duration: SECONDS });
  const { cpuMicros } = await ask(child, "report");
  child.send("stop");
  await new Promise((resolve) => child.once("exit", resolve));
  return {
    rate: result.requests.average,
    p99: result.latency.p99,
    // Server CPU time per request: steadier than throughput on a busy machine.
    cpu: cpuMicros / Math.max(1, result.requests.total),
    errors: result.errors + result.non2xx,
  };
}

async function main() {
  const { default: autocannon } = await import("autocannon");
  console.log(
    `telemetry cost: node ${process.version}, tools/call over loopback, ${CONNECTIONS} connections, ${SECONDS} s per run, best of ${ROUNDS}`,
  );
  const best = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of CASES) {
      const result = await measure(autocannon, mode);
      // Best round: the one least disturbed by whatever else the machine was doing.
      if (best[mode] === undefined || result.rate > best[mode].rate) best[mode] = result;
      if (best[`${mode}-cpu`] === undefined || result.cpu < best[`${mode}-cpu`])
        best[`${mode}-cpu`] = result.cpu;
    }
  }
  const base = best.off;
  const baseCpu = best["off-cpu"];
  for (const mode of CASES) {
    const { rate, p99, errors } = best[mode];
    const cpu = best[`${mode}-cpu`];
    const line = [
      mode.padEnd(6),
      `${Math.round(rate).toLocaleString("en-US").padStart(8)} req/s (${(rate / base.rate).toFixed(2)} of off)`,
      `p99 ${String(p99).padStart(3)} ms`,
      `server CPU ${cpu.toFixed(0).padStart(4)} µs/request (${(cpu / baseCpu).toFixed(2)} of off)`,
      errors > 0 ? `(${errors} errors or non-2xx)` : "",
    ];
    console.log(line.join("   "));
  }
}

if (process.argv[2] === "--serve") await serve(process.argv[3]);
else await main();
