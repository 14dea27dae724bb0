import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, type RedisConnection } from "../../../src/sessions/redis-connection.js";
import { createRedisEventStore } from "../../../src/sessions/redis-event-store.js";
import { createRedisSessionRegistry } from "../../../src/sessions/redis-session-registry.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import { captureLogs } from "../../fixtures/hosts.js";
import { redisAvailability, startRedis, type RedisServer } from "../../fixtures/redis.js";
import { eventStoreContract, registryContract } from "./store-contracts.js";

const availability = redisAvailability();
if (!availability.run) console.warn(availability.reason);

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.runIf(availability.run)("session stores on Redis", () => {
  let redis: RedisServer;
  let connection: RedisConnection;
  const logs = captureLogs();

  beforeAll(async () => {
    redis = await startRedis();
    connection = connectRedis({
      url: redis.url,
      logger: createLogger({ level: "debug", serviceName: "test", destination: logs.stream }),
    });
    await until(() => connection.ready());
  });
  afterAll(async () => {
    await connection.close();
    await redis.stop();
  });

  registryContract("redis", () => Promise.resolve(createRedisSessionRegistry({ redis: connection })));
  eventStoreContract("redis", (sessionId, owner) =>
    Promise.resolve(createRedisEventStore({ redis: connection, sessionId, owner, ttlMs: 60_000 })),
  );

  it("keys carry a hash tag per owner and no user id; events expire with the session's idle time", async () => {
    const registry = createRedisSessionRegistry({ redis: connection, prefix: "k:sess:" });
    await registry.register(
      { id: "k".repeat(32), owner: "t1:carol@contoso.com", replica: "http://10.0.0.1:8080" },
      { ttlMs: 60_000, maxPerUser: 5 },
    );
    const store = createRedisEventStore({
      redis: connection,
      prefix: "k:ev:",
      sessionId: "k".repeat(32),
      owner: "t1:carol@contoso.com",
      ttlMs: 5_000,
    });
    await store.storeEvent("stream-a", { jsonrpc: "2.0", method: "x" });
    const keys = redis.cli("--scan", "--pattern", "k:*").split("\n").sort();
    expect(keys).toHaveLength(3);
    for (const key of keys) {
      expect(key).toMatch(/^k:(sess|ev):\{[A-Za-z0-9_-]{22}\}:/);
      expect(key).not.toContain("carol");
    }
    const stream = keys.find((key) => key.startsWith("k:ev:"))!;
    expect(Number(redis.cli("pttl", stream))).toBeGreaterThan(4_000);
    expect(Number(redis.cli("pttl", stream))).toBeLessThanOrEqual(5_000);
  });

  it("fails fast while Redis is down and works again once it is back, without a new connection", async () => {
    const registry = createRedisSessionRegistry({ redis: connection });
    const limits = { ttlMs: 60_000, maxPerUser: 5 };
    await redis.stop();
    await until(() => !connection.ready());
    const started = Date.now();
    await expect(registry.lookup("t1:dave", "d".repeat(32))).rejects.toThrow(/not connected/);
    expect(Date.now() - started).toBeLessThan(500);
    await redis.start();
    await until(() => connection.ready());
    await registry.register({ id: "d".repeat(32), owner: "t1:dave", replica: "r" }, limits);
    expect(await registry.exists("t1:dave", "d".repeat(32))).toBe(true);
    expect(logs.lines.join("")).not.toContain("redis://");
  });
});
