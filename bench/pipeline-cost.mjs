#!/usr/bin/env node
/**
 * The CPU one request costs inside Paved (pipeline + SDK), without HTTP: the full-security host of
 * bench/servers/paved.mjs driven in-process through its request handler, with RS256 tokens of 50
 * users from the bench issuer. Steadier than the loopback harness on a busy machine, so it is the
 * A/B tool for hot-path changes. A benchmark, not a test: it prints numbers, never fails on them.
 *
 *   npm run build && node bench/pipeline-cost.mjs [call-2025|call-modern|list-50] [--audit=off]
 *   BENCH_REQUESTS=50000 BENCH_IN_FLIGHT=20 node bench/pipeline-cost.mjs call-modern
 */
import process from "node:process";
import { z } from "zod";
import { createMcpHost, defineTool } from "../dist/index.js";
import { internalsOf } from "../dist/host-internals.js";
import { CLIENT_ID, startIssuer, TENANT } from "./lib/issuer.mjs";
import { toolNames } from "./lib/server-kit.mjs";
import { WORKLOADS } from "./lib/workloads.mjs";

const workloadId = process.argv.find((arg) => WORKLOADS[arg] !== undefined) ?? "call-2025";
const audit = process.argv.includes("--audit=off") ? "off" : "/dev/null";
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 20);
const workload = WORKLOADS[workloadId];

const issuer = await startIssuer();
const host = createMcpHost({
  config: {
    azureAd: { instance: issuer.instance, tenantId: TENANT, clientId: CLIENT_ID },
    server: {
      allowedHosts: ["127.0.0.1"],
      maxRequestsPerMinutePerUser: 1_000_000,
      maxRequestsPerMinutePerTenant: 100_000_000,
      maxRequestsPerMinutePerClientAddress: 100_000_000,
    },
    // The audit log on, written to /dev/null (this process's standard output prints the result).
    telemetry: { logLevel: "warn", auditLog: audit },
  },
  server: { name: "bench-pipeline", version: "1.0.0" },
  tools: toolNames(workload.tools).map((name) =>
    defineTool({
      name,
      description: `Echo the text back (${name})`,
      input: { text: z.string().max(10_000) },
      scopes: ["tools.read"],
      handler: ({ text }) => text,
    }),
  ),
});
const internals = internalsOf(host);
await internals.start();
const tokens = Array.from({ length: 50 }, (_, index) => issuer.mintUser(index + 1));

/** What the Node adapter gives the pipeline, for a request already read. */
class BenchRequest {
  method = "POST";
  path = "/mcp";
  search = "";
  scheme = "http";
  remoteAddress = "127.0.0.1";
  #headers;
  #controller;
  constructor(index) {
    this.#headers = {
      ...workload.headers,
      host: "127.0.0.1:8080",
      authorization: `Bearer ${tokens[index % 50]}`,
    };
  }
  header(name) {
    return this.#headers[name];
  }
  headerValues(name) {
    return this.#headers[name] === undefined ? [] : [this.#headers[name]];
  }
  readBody() {
    return Promise.resolve({ ok: true, text: workload.body });
  }
  get signal() {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }
  onClientGone() {}
}

async function run(count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const reply = await internals.handle(new BenchRequest(next++));
      if (reply.status !== 200)
        throw new Error(`answered ${reply.status}: ${JSON.stringify(reply).slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

await run(Math.min(5_000, REQUESTS)); // warm-up: JIT, token cache
const cpu = process.cpuUsage();
const started = performance.now();
await run(REQUESTS);
const used = process.cpuUsage(cpu);
const wall = performance.now() - started;
console.log(
  `${workload.title}, audit ${audit === "off" ? "off" : "on"}: ${((used.user + used.system) / REQUESTS).toFixed(1)} µs CPU per request ` +
    `(${((wall * 1000) / REQUESTS).toFixed(1)} µs wall; ${REQUESTS} requests, ${IN_FLIGHT} in flight)`,
);
await host.close();
await issuer.close();
