import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LimitRule, RateLimitStore } from "../../../src/rate-limit/store.js";

/**
 * The behaviour every `RateLimitStore` must have, run against the memory store and the Redis store
 * alike (memory.test.ts, redis.test.ts). Real time, short windows: the Redis store keeps its own clock.
 */
export function storeContract(name: string, make: () => Promise<RateLimitStore>): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    let store: RateLimitStore;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(async () => {
      await store.close();
    });

    const key = (kind = "user"): string => `${kind}:${randomUUID()}`;
    const rule = (k: string, limit: number, windowMs = 10_000, cost = 1): LimitRule => ({
      key: k,
      cost,
      limit,
      windowMs,
    });
    const one = async (r: LimitRule) => {
      const result = await store.consume({ group: r.key, rules: [r] });
      return { ...result, decision: result.decisions[0] };
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it("is ready and has a name", () => {
      expect(store.ready()).toBe(true);
      expect(store.name).toBe(name);
    });

    it("admits exactly the limit, counting remaining down, then refuses", async () => {
      const k = key();
      const remaining: number[] = [];
      for (let index = 0; index < 5; index++) {
        const result = await one(rule(k, 5));
        expect(result.allowed).toBe(true);
        remaining.push(result.decision?.remaining ?? -1);
        expect(result.decision?.resetMs).toBeGreaterThan(9_000);
        expect(result.decision?.resetMs).toBeLessThanOrEqual(10_100);
      }
      expect(remaining).toStrictEqual([4, 3, 2, 1, 0]);
      const refused = await one(rule(k, 5));
      expect(refused.allowed).toBe(false);
      expect(refused.decision).toMatchObject({ allowed: false, remaining: 0 });
      expect(refused.decision?.resetMs).toBeGreaterThan(9_000);
      expect(refused.decision?.resetMs).toBeLessThanOrEqual(10_100);
    });

    it("charges the cost, and refuses a cost that does not fit without charging it", async () => {
      const k = key();
      expect((await one(rule(k, 5, 10_000, 3))).decision).toMatchObject({ allowed: true, remaining: 2 });
      expect((await one(rule(k, 5, 10_000, 3))).decision).toMatchObject({ allowed: false, remaining: 2 });
      expect((await one(rule(k, 5, 10_000, 2))).decision).toMatchObject({ allowed: true, remaining: 0 });
    });

    it("never admits a cost above the limit, and says to wait a whole window", async () => {
      const k = key();
      const result = await one(rule(k, 2, 10_000, 3));
      expect(result.decision).toStrictEqual({ allowed: false, remaining: 2, resetMs: 10_000 });
      expect((await one(rule(k, 2))).decision).toMatchObject({ allowed: true, remaining: 1 });
    });

    it("decides several rules together: all are charged, or none", async () => {
      const wide = key("user");
      const narrow = key("tenant");
      const both = [rule(wide, 10), rule(narrow, 1)];
      const first = await store.consume({ group: "g", rules: both });
      expect(first.allowed).toBe(true);
      expect(first.decisions.map((d) => [d.allowed, d.remaining])).toStrictEqual([
        [true, 9],
        [true, 0],
      ]);
      const second = await store.consume({ group: "g", rules: both });
      expect(second.allowed).toBe(false);
      expect(second.decisions.map((d) => [d.allowed, d.remaining])).toStrictEqual([
        [true, 9],
        [false, 0],
      ]);
      // The refused request took nothing from the rule that had room.
      const after = await store.consume({ group: "g", rules: [rule(wide, 10)] });
      expect(after.decisions[0]?.remaining).toBe(8);
    });

    it("keeps keys apart", async () => {
      const a = key();
      const b = key();
      await one(rule(a, 1));
      expect((await one(rule(a, 1))).allowed).toBe(false);
      expect((await one(rule(b, 1))).allowed).toBe(true);
    });

    it("is atomic under concurrency: 60 parallel requests on a limit of 10 admit exactly 10", async () => {
      const k = key();
      const results = await Promise.all(Array.from({ length: 60 }, () => one(rule(k, 10))));
      expect(results.filter((result) => result.allowed)).toHaveLength(10);
      const remaining = results.flatMap((result) => (result.allowed ? [result.decision?.remaining] : []));
      expect(remaining.sort()).toStrictEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it("slides: units leave one window after they were admitted, not at a fixed boundary", async () => {
      // window 1 s: 2 units at t0, 2 at t0+600 ms. At t0+1100 ms the first two have left, the last
      // two have not: exactly 2 more fit (a fixed window would admit 4 at its boundary).
      const k = key();
      const window = 1_000;
      const t0 = performance.now();
      expect((await one(rule(k, 4, window))).allowed).toBe(true);
      expect((await one(rule(k, 4, window))).allowed).toBe(true);
      await sleep(600 - (performance.now() - t0));
      expect((await one(rule(k, 4, window))).allowed).toBe(true);
      expect((await one(rule(k, 4, window))).allowed).toBe(true);
      const full = await one(rule(k, 4, window));
      expect(full.allowed).toBe(false);
      // Wait until the first two have left: at most t0 + window + one slot (10 ms), plus margin.
      expect(full.decision?.resetMs).toBeLessThanOrEqual(window - 600 + 10 + 50);
      await sleep(1_100 - (performance.now() - t0));
      const admitted = [];
      for (let index = 0; index < 3; index++) admitted.push((await one(rule(k, 4, window))).allowed);
      expect(admitted).toStrictEqual([true, true, false]);
      const refused = await one(rule(k, 4, window));
      // The next unit comes back when the t0+600 pair leaves: ~500 ms from now.
      expect(refused.decision?.resetMs).toBeGreaterThan(300);
      expect(refused.decision?.resetMs).toBeLessThanOrEqual(600);
    });

    it("admits again once the reset it announced has passed", async () => {
      const k = key();
      expect((await one(rule(k, 1, 500))).allowed).toBe(true);
      const refused = await one(rule(k, 1, 500));
      expect(refused.allowed).toBe(false);
      const wait = refused.decision?.resetMs ?? 1_000;
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(505);
      await sleep(wait + 30);
      expect((await one(rule(k, 1, 500))).allowed).toBe(true);
    });

    it("refuses malformed rules", async () => {
      await expect(
        (async () =>
          store.consume({ group: "g", rules: [{ key: "x", cost: 0, limit: 1, windowMs: 1_000 }] }))(),
      ).rejects.toThrow(RangeError);
    });
  });
}
