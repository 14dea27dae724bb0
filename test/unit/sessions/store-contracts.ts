import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import type { SessionEventStore } from "../../../src/sessions/redis-event-store.js";
import type { SessionRegistry } from "../../../src/sessions/session-registry.js";

/**
 * The behaviour every session registry shares (memory and Redis run the same suite). Each test uses
 * its own owners, so one registry instance can serve the whole suite.
 */
export function registryContract(name: string, make: () => Promise<SessionRegistry>): void {
  describe(`session registry contract: ${name}`, () => {
    const limits = { ttlMs: 60_000, maxPerUser: 3 };
    let counter = 0;
    const owner = () => `t1:${name}-${++counter}-${Date.now()}`;
    const id = (tag: string) => `${tag}${"x".repeat(32 - tag.length)}`;

    it("records which replica holds a session, for its owner only", async () => {
      const registry = await make();
      const alice = owner();
      expect(
        await registry.register({ id: id("a1"), owner: alice, replica: "http://10.0.0.1:8080" }, limits),
      ).toEqual([]);
      const record = await registry.lookup(alice, id("a1"));
      expect(record).toMatchObject({ id: id("a1"), owner: alice, replica: "http://10.0.0.1:8080" });
      expect(record!.expiresAt).toBeGreaterThan(Date.now() + 50_000);
      expect(await registry.lookup(owner(), id("a1"))).toBeUndefined();
      expect(await registry.lookup(alice, id("zz"))).toBeUndefined();
      expect(await registry.exists(alice, id("a1"))).toBe(true);
      expect(await registry.count(alice)).toBe(1);
    });

    it("touch extends a live record and reports a missing one", async () => {
      const registry = await make();
      const alice = owner();
      await registry.register({ id: id("t1"), owner: alice, replica: "r" }, { ...limits, ttlMs: 1_000 });
      expect(await registry.touch(alice, id("t1"), limits)).toBe(true);
      expect((await registry.lookup(alice, id("t1")))!.expiresAt).toBeGreaterThan(Date.now() + 50_000);
      expect(await registry.touch(alice, id("nope"), limits)).toBe(false);
      expect(await registry.touch(owner(), id("t1"), limits)).toBe(false);
    });

    it("records lapse after the idle time unless used", async () => {
      const registry = await make();
      const alice = owner();
      const short = { ...limits, ttlMs: 300 };
      await registry.register({ id: id("l1"), owner: alice, replica: "r" }, short);
      await registry.register({ id: id("l2"), owner: alice, replica: "r" }, short);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await registry.touch(alice, id("l2"), short)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await registry.lookup(alice, id("l1"))).toBeUndefined();
      expect(await registry.exists(alice, id("l1"))).toBe(false);
      expect(await registry.touch(alice, id("l1"), short)).toBe(false);
      expect(await registry.exists(alice, id("l2"))).toBe(true);
      expect(await registry.count(alice)).toBe(1);
    });

    it("enforces the per-user cap: the least recently used sessions go, other owners are untouched", async () => {
      const registry = await make();
      const alice = owner();
      const bob = owner();
      await registry.register({ id: id("b1"), owner: bob, replica: "r" }, limits);
      for (const tag of ["c1", "c2", "c3"]) {
        expect(await registry.register({ id: id(tag), owner: alice, replica: "r" }, limits)).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await registry.touch(alice, id("c1"), limits)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await registry.register({ id: id("c4"), owner: alice, replica: "r" }, limits)).toEqual([
        id("c2"),
      ]);
      expect(await registry.exists(alice, id("c2"))).toBe(false);
      expect(await registry.count(alice)).toBe(3);
      expect(
        await registry.register({ id: id("c5"), owner: alice, replica: "r" }, { ...limits, maxPerUser: 1 }),
      ).toEqual([id("c3"), id("c1"), id("c4")]);
      expect(await registry.count(alice)).toBe(1);
      expect(await registry.count(bob)).toBe(1);
    });

    it("removes a record", async () => {
      const registry = await make();
      const alice = owner();
      await registry.register({ id: id("r1"), owner: alice, replica: "r" }, limits);
      await registry.remove(alice, id("r1"));
      await registry.remove(alice, id("r1"));
      expect(await registry.lookup(alice, id("r1"))).toBeUndefined();
      expect(await registry.count(alice)).toBe(0);
    });
  });
}

const message = (n: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { n },
});

/** The behaviour every per-session event store shares (memory and Redis). */
export function eventStoreContract(
  name: string,
  make: (sessionId: string, owner: string) => Promise<SessionEventStore>,
): void {
  describe(`event store contract: ${name}`, () => {
    let counter = 0;
    const session = () => `s${++counter}${Date.now()}${"x".repeat(16)}`;

    async function replay(store: SessionEventStore, after: string) {
      const sent: { id: string; message: JSONRPCMessage }[] = [];
      const stream = await store.replayEventsAfter(after, {
        send: (id, message) => {
          sent.push({ id, message });
          return Promise.resolve();
        },
      });
      return { stream, sent };
    }

    it("SSE-04: event ids are unique across streams and name their stream", async () => {
      const store = await make(session(), "t1:alice");
      const ids = [
        await store.storeEvent("stream-a", {} as JSONRPCMessage),
        await store.storeEvent("stream-a", message(1)),
        await store.storeEvent("_GET_stream", message(2)),
        await store.storeEvent("stream-a", message(3)),
      ];
      expect(new Set(ids).size).toBe(4);
      expect(await store.getStreamIdForEventId!(ids[1]!)).toBe("stream-a");
      expect(await store.getStreamIdForEventId!(ids[2]!)).toBe("_GET_stream");
      expect(await store.getStreamIdForEventId!("stream-b.1")).toBeUndefined();
      expect(await store.getStreamIdForEventId!("garbage")).toBeUndefined();
    });

    it("SSE-03: replays the events after the given one, of that stream only, without the priming event", async () => {
      const store = await make(session(), "t1:alice");
      const priming = await store.storeEvent("stream-a", {} as JSONRPCMessage);
      const first = await store.storeEvent("stream-a", message(1));
      await store.storeEvent("other", message(99));
      const second = await store.storeEvent("stream-a", message(2));
      const fromPriming = await replay(store, priming);
      expect(fromPriming.stream).toBe("stream-a");
      expect(fromPriming.sent).toEqual([
        { id: first, message: message(1) },
        { id: second, message: message(2) },
      ]);
      expect((await replay(store, first)).sent).toEqual([{ id: second, message: message(2) }]);
      expect((await replay(store, second)).sent).toEqual([]);
    });

    it("SSE-05: another session's event ids replay nothing", async () => {
      const mine = await make(session(), "t1:alice");
      const theirs = await make(session(), "t1:bob");
      await mine.storeEvent("shared-name", {} as JSONRPCMessage);
      const id = await mine.storeEvent("shared-name", message(1));
      await mine.storeEvent("shared-name", message(2));
      expect(await theirs.getStreamIdForEventId!(id)).toBeUndefined();
      const stolen = await replay(theirs, id);
      expect(stolen.sent).toEqual([]);
    });

    it("forgets everything when the session closes", async () => {
      const store = await make(session(), "t1:alice");
      const id = await store.storeEvent("stream-a", message(1));
      await store.storeEvent("stream-a", message(2));
      await store.dispose();
      expect(await store.getStreamIdForEventId!(id)).toBeUndefined();
      expect((await replay(store, id)).sent).toEqual([]);
    });
  });
}
