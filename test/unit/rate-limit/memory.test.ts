import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../../../src/rate-limit/memory-store.js";
import { storeContract } from "./store-contract.js";

storeContract("memory", () => Promise.resolve(createMemoryStore()));

describe("createMemoryStore", () => {
  const rule = (key: string, limit = 4, windowMs = 1_000) => ({ key, cost: 1, limit, windowMs });

  it("is exact at the window edge on a controlled clock (slot = 1% of the window)", () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const take = () => store.consume({ group: "g", rules: [rule("user:a")] }) as { allowed: boolean };
    for (let index = 0; index < 4; index++) expect(take().allowed).toBe(true);
    now = 1_009; // the units of slot 0 count until (0 + 1) · 10 + 1000 = 1010
    expect(take().allowed).toBe(false);
    now = 1_010;
    expect(take().allowed).toBe(true);
    void store.close();
  });

  it("holds at most maxKeys counters, dropping the least recently used", () => {
    let now = 0;
    const store = createMemoryStore({ maxKeys: 3, now: () => now });
    for (const name of ["a", "b", "c"]) store.consume({ group: name, rules: [rule(`user:${name}`, 1)] });
    // touch a: b is now the least recently used
    store.consume({ group: "a", rules: [rule("user:a", 1)] });
    store.consume({ group: "d", rules: [rule("user:d", 1)] });
    expect(store.size).toBe(3);
    now = 10;
    // b was forgotten: it is admitted again; a was kept: still refused
    expect(store.consume({ group: "b", rules: [rule("user:b", 1)] })).toMatchObject({ allowed: true });
    expect(store.consume({ group: "a", rules: [rule("user:a", 1)] })).toMatchObject({ allowed: false });
    void store.close();
  });

  it("sweeps counters whose units have all left their window", () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    for (let index = 0; index < 100; index++)
      store.consume({ group: "g", rules: [rule(`address:${index}`, 10, 1_000)] });
    expect(store.size).toBe(100);
    now = 1_009;
    store.sweep();
    expect(store.size).toBe(100);
    now = 1_010;
    store.sweep();
    expect(store.size).toBe(0);
    void store.close();
  });

  it("under sustained demand admits the limit per window, and never more in any window", () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const admitted: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      now = step * 0.5;
      const result = store.consume({ group: "g", rules: [rule("user:busy", 500, 1_000)] });
      if ((result as { allowed: boolean }).allowed) admitted.push(now);
    }
    // 10 s of demand at 2000/s against 500 per 1 s window: 10 windows of 500 (slots may delay ≤ 1%)
    expect(admitted.length).toBeGreaterThanOrEqual(4_950);
    expect(admitted.length).toBeLessThanOrEqual(5_000);
    let tail = 0;
    for (let head = 0; head < admitted.length; head++) {
      while ((admitted[head] as number) - (admitted[tail] as number) >= 1_000) tail++;
      expect(head - tail + 1).toBeLessThanOrEqual(500);
    }
    void store.close();
  });
});
