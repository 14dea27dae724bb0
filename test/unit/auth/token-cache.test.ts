import { describe, expect, it } from "vitest";
import { createTokenCache } from "../../../src/auth/token-cache.js";

/** A clock the test moves by hand (ms). */
function clock(start = 1_800_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

describe("createTokenCache", () => {
  it("returns what was stored for the same token, nothing for another", () => {
    const time = clock();
    const cache = createTokenCache<string>({ now: time.now });
    cache.set("token-a", "A", seconds(time.now()) + 60);
    expect(cache.get("token-a")).toBe("A");
    expect(cache.get("token-b")).toBeUndefined();
    expect(cache.get("token-a ")).toBeUndefined();
  });

  it("never serves an entry at or past exp, and drops it", () => {
    const time = clock();
    const cache = createTokenCache<string>({ now: time.now });
    const exp = seconds(time.now()) + 10;
    cache.set("token", "A", exp);
    time.advance(9_999);
    expect(cache.get("token")).toBe("A");
    time.advance(1);
    expect(cache.get("token")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("does not store an already expired result", () => {
    const time = clock();
    const cache = createTokenCache<string>({ now: time.now });
    cache.set("token", "A", seconds(time.now()) - 1);
    cache.set("token-now", "B", seconds(time.now()));
    expect(cache.size).toBe(0);
  });

  it("is bounded: the least recently used entry goes first", () => {
    const time = clock();
    const cache = createTokenCache<number>({ maxEntries: 3, now: time.now });
    const exp = seconds(time.now()) + 600;
    cache.set("t1", 1, exp);
    cache.set("t2", 2, exp);
    cache.set("t3", 3, exp);
    expect(cache.get("t1")).toBe(1); // t1 is now the most recently used
    cache.set("t4", 4, exp);
    expect(cache.size).toBe(3);
    expect(cache.get("t2")).toBeUndefined();
    expect([cache.get("t1"), cache.get("t3"), cache.get("t4")]).toEqual([1, 3, 4]);
  });

  it("holds at most 10,000 entries by default", () => {
    const time = clock();
    const cache = createTokenCache<number>({ now: time.now });
    const exp = seconds(time.now()) + 600;
    for (let i = 0; i < 10_050; i++) cache.set(`token-${i}`, i, exp);
    expect(cache.size).toBe(10_000);
    expect(cache.get("token-0")).toBeUndefined();
    expect(cache.get("token-10049")).toBe(10_049);
  });

  it("purges expired entries in a periodic sweep, even ones never read again", () => {
    const time = clock();
    const cache = createTokenCache<number>({ now: time.now });
    for (let i = 0; i < 100; i++) cache.set(`short-${i}`, i, seconds(time.now()) + 30);
    expect(cache.size).toBe(100);
    time.advance(61_000);
    cache.set("fresh", 1, seconds(time.now()) + 600);
    expect(cache.size).toBe(1);
  });

  it("re-setting a token replaces its entry (and its expiry)", () => {
    const time = clock();
    const cache = createTokenCache<string>({ now: time.now });
    cache.set("token", "old", seconds(time.now()) + 600);
    cache.set("token", "new", seconds(time.now()) + 5);
    expect(cache.size).toBe(1);
    time.advance(5_000);
    expect(cache.get("token")).toBeUndefined();
  });

  it("refuses a nonsensical bound", () => {
    expect(() => createTokenCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => createTokenCache({ maxEntries: 1.5 })).toThrow(RangeError);
  });
});
