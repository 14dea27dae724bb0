import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrub } from "../../../src/redis-client.js";
import { createRedisStore, StoreUnavailableError } from "../../../src/rate-limit/redis-store.js";
import { CONSUME_SHA } from "../../../src/rate-limit/redis-script.js";
import type { RateLimitStore } from "../../../src/rate-limit/store.js";
import { captureLogs } from "../../fixtures/hosts.js";
import { redisAvailability, startRedis, type RedisServer } from "../../fixtures/redis.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import { storeContract } from "./store-contract.js";

const availability = redisAvailability();
if (!availability.run) console.warn(availability.reason);

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function connected(url: string, extra: { keyPrefix?: string } = {}) {
  const logs = captureLogs();
  const store = createRedisStore({
    url,
    ...extra,
    logger: createLogger({ level: "debug", serviceName: "test", destination: logs.stream }),
  });
  await until(() => store.ready());
  return { store, logs };
}

describe.runIf(availability.run)("createRedisStore", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  storeContract("redis", async () => (await connected(redis.url)).store);

  describe("on the wire", () => {
    let store: RateLimitStore;
    beforeAll(async () => {
      store = (await connected(redis.url, { keyPrefix: "t1:" })).store;
    });
    afterAll(async () => {
      await store.close();
    });

    it("keys carry one hash tag per decision and hashes instead of ids; they expire with the window", async () => {
      await store.consume({
        group: "tenant-42",
        rules: [
          { key: "user:tenant-42:alice", cost: 1, limit: 5, windowMs: 60_000 },
          { key: "tenant:tenant-42", cost: 1, limit: 50, windowMs: 60_000 },
        ],
      });
      const keys = redis.cli("--scan", "--pattern", "t1:*").split("\n").sort();
      expect(keys).toHaveLength(2);
      const tags = keys.map((key) => /\{([^}]+)\}/.exec(key)?.[1]);
      expect(tags[0]).toBeDefined();
      expect(tags[0]).toBe(tags[1]);
      expect(keys.join(" ")).not.toMatch(/alice|tenant-42/);
      expect(keys.map((key) => key.split(":")[3])).toStrictEqual(["tenant", "user"]);
      for (const key of keys) {
        const ttl = Number(redis.cli("PTTL", key));
        expect(ttl).toBeGreaterThan(59_000);
        expect(ttl).toBeLessThanOrEqual(60_600);
      }
    });

    it("falls back to EVAL when the server lost its script cache (NOSCRIPT)", async () => {
      redis.cli("SCRIPT", "FLUSH");
      expect(redis.cli("SCRIPT", "EXISTS", CONSUME_SHA)).toBe("0");
      const result = await store.consume({
        group: "g",
        rules: [{ key: "user:noscript", cost: 1, limit: 2, windowMs: 1_000 }],
      });
      expect(result.allowed).toBe(true);
      expect(redis.cli("SCRIPT", "EXISTS", CONSUME_SHA)).toBe("1");
    });
  });

  describe("when Redis goes away and comes back", () => {
    it("fails fast with StoreUnavailableError, reports not ready, logs without the password, and recovers", async () => {
      const password = "pa55-never-logged";
      const own = await startRedis({ password });
      const { store, logs } = await connected(own.url);
      const rules = [{ key: "user:fault", cost: 1, limit: 100, windowMs: 10_000 }];
      expect((await store.consume({ group: "g", rules })).allowed).toBe(true);

      await own.stop(true);
      await until(() => !store.ready());
      const started = performance.now();
      await expect(store.consume({ group: "g", rules })).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - started).toBeLessThan(300);

      await own.start();
      await until(() => store.ready());
      // The restarted server is empty (and has no script cached): the count starts over.
      const again = await store.consume({ group: "g", rules });
      expect(again).toMatchObject({ allowed: true, decisions: [{ remaining: 99 }] });

      const text = logs.lines.join("");
      expect(text).toContain("Redis unreachable");
      expect(text).toContain("Redis reachable again");
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      await store.close();
      await own.stop();
    });

    it("is not ready and refuses while the server cannot be reached at all", async () => {
      const store = createRedisStore({ url: "redis://127.0.0.1:1", connectTimeoutMs: 200 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(store.ready()).toBe(false);
      await expect(
        store.consume({ group: "g", rules: [{ key: "user:x", cost: 1, limit: 1, windowMs: 1_000 }] }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await store.close();
      await store.close();
    });
  });

  it("scrub() hides credentials in URLs", () => {
    expect(scrub("cannot reach redis://user:secret@cache:6379 now")).toBe(
      "cannot reach redis://***@cache:6379 now",
    );
    expect(scrub("rediss://:k3y@cache.redis.cache.windows.net:6380")).toBe(
      "rediss://***@cache.redis.cache.windows.net:6380",
    );
  });
});
