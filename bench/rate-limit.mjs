#!/usr/bin/env node
/**
 * The cost of one rate-limit decision, memory store and Redis store (a throw-away redis-server on a
 * free loopback port). A benchmark, not a test: it prints numbers and never fails on them.
 *
 *   npm run build && npm run bench:rate-limit
 *   BENCH_SECONDS=5 npm run bench:rate-limit      longer runs (default 2 s per case)
 */
import process from "node:process";
import { createMemoryStore, createRedisStore } from "../dist/index.js";
import { hasRedis, startRedis } from "./lib/redis.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const USERS = 10_000;
const WINDOW_MS = 60_000;

/** Rules of one request: user alone, or user + tenant + tool (what stage 7 decides together). */
function rules(index, full) {
  const user = {
    key: `user:t${index % 50}:u${index % USERS}`,
    cost: 1,
    limit: 1_000_000,
    windowMs: WINDOW_MS,
  };
  if (!full) return { group: `user:${index % USERS}`, rules: [user] };
  return {
    group: `tenant:t${index % 50}`,
    rules: [
      user,
      { key: `tenant:t${index % 50}`, cost: 1, limit: 100_000_000, windowMs: WINDOW_MS },
      { key: `tool:export:u${index % USERS}`, cost: 1, limit: 1_000_000, windowMs: WINDOW_MS },
    ],
  };
}

/** Runs `decide` for SECONDS with `inFlight` concurrent callers; returns decisions per second and µs per decision. */
async function measure(decide, inFlight) {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  let index = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await decide(index++);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: done / elapsed, micros: (elapsed * 1e6) / done, done };
}

function print(name, result, note = "") {
  const rate = Math.round(result.perSecond).toLocaleString("en-US").padStart(11);
  const micros = result.micros.toFixed(result.micros < 10 ? 2 : 1).padStart(8);
  console.log(`${name.padEnd(46)} ${rate} decisions/s ${micros} µs/decision${note}`);
}

console.log(
  `rate-limit decision cost: node ${process.version}, ${SECONDS} s per case, ${USERS} users, sliding window of ${WINDOW_MS / 1000} s`,
);

const memory = createMemoryStore();
print("memory, user only", await measure((i) => memory.consume(rules(i, false)), 1));
print("memory, user + tenant + tool", await measure((i) => memory.consume(rules(i, true)), 1));
await memory.close();

let redis;
if (!hasRedis()) console.log("redis: skipped (redis-server is not installed)");
else {
  try {
    redis = await startRedis();
  } catch (error) {
    console.log(`redis: skipped (${error.message})`);
  }
}
if (redis !== undefined) {
  const store = createRedisStore({ url: redis.url, keyPrefix: "bench:" });
  const deadline = Date.now() + 10_000;
  while (!store.ready() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  try {
    print(
      "redis, user only, 1 in flight (round trip)",
      await measure((i) => store.consume(rules(i, false)), 1),
    );
    print("redis, user + tenant + tool, 1 in flight", await measure((i) => store.consume(rules(i, true)), 1));
    print(
      "redis, user only, 64 in flight",
      await measure((i) => store.consume(rules(i, false)), 64),
      " (throughput)",
    );
    print(
      "redis, user + tenant + tool, 64 in flight",
      await measure((i) => store.consume(rules(i, true)), 64),
      " (throughput)",
    );
  } catch (error) {
    console.log(`redis: failed (${error.message})`);
  }
  await store.close();
  await redis.stop();
}
