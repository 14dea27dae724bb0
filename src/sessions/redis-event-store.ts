import type { EventStore, JSONRPCMessage } from "@modelcontextprotocol/server";
import { withTimeout, type RedisEval } from "./redis-eval.js";
import { ownerKey } from "./session-registry.js";

export interface RedisEventStoreOptions {
  readonly redis: RedisEval;
  /** The session the store belongs to, and its owner: both are part of every key. */
  readonly sessionId: string;
  readonly owner: string;
  /** Events expire this long after the last one of their stream (the session's idle timeout). */
  readonly ttlMs: number;
  /** Events kept per stream, approximately; older ones can no longer be replayed. Default 1000. */
  readonly maxEventsPerStream?: number;
  /** Prefix of every key. Default `paved:ev:`. */
  readonly prefix?: string;
  /** Longest wait for one Redis operation, in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** Told when an event could not be stored (Redis unreachable): the stream goes on without it. */
  readonly onStoreFailed?: (error: unknown) => void;
}

/** The SDK's stream ids: UUIDs for POST streams, `_GET_stream` for the standalone one. */
const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A Redis stream entry id. */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

const STORE = `local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id`;
const REPLAY = `return redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])`;
const EXISTS = `return redis.call('EXISTS', KEYS[1])`;
const DELETE = `return redis.call('DEL', unpack(KEYS))`;

/** A resumable-stream store with a `dispose()` for when its session closes. */
export interface SessionEventStore extends EventStore {
  /** Deletes every event of the session. */
  dispose(): Promise<void>;
}

/**
 * The SDK's `EventStore` on Redis streams, one store per session: every key names the session and
 * its owner, so a `Last-Event-ID` can only ever replay that session's events, and the session is
 * only reachable by the principal that opened it. Event ids are `<stream id>.<entry id>`: unique
 * across the session's streams and naming their stream (SEP-1699).
 */
export function createRedisEventStore(options: RedisEventStoreOptions): SessionEventStore {
  const prefix = `${options.prefix ?? "paved:ev:"}{${ownerKey(options.owner)}}:${options.sessionId}:`;
  const maxEvents = String(options.maxEventsPerStream ?? 1_000);
  const timeoutMs = options.timeoutMs ?? 2_000;
  const streams = new Set<string>();
  let unstored = 0;
  const run = (script: string, keys: readonly string[], args: readonly string[] = []) =>
    withTimeout(options.redis.eval(script, keys, args), timeoutMs);

  function parse(eventId: string): { stream: string; entry: string } | undefined {
    const dot = eventId.lastIndexOf(".");
    const stream = eventId.slice(0, Math.max(0, dot));
    const entry = eventId.slice(dot + 1);
    return STREAM_ID.test(stream) && ENTRY_ID.test(entry) ? { stream, entry } : undefined;
  }

  return {
    async storeEvent(streamId: string, message: JSONRPCMessage) {
      if (!STREAM_ID.test(streamId)) throw new RangeError("unexpected stream id");
      streams.add(streamId);
      let entry: unknown;
      try {
        entry = await run(
          STORE,
          [prefix + streamId],
          [JSON.stringify(message), maxEvents, String(options.ttlMs)],
        );
      } catch (error) {
        // Redis unreachable: a session held here keeps working (deployment.md), only resuming past
        // this event is lost. The id names no stream entry, so it never replays anything.
        options.onStoreFailed?.(error);
        return `${streamId}.unstored-${++unstored}`;
      }
      return `${streamId}.${String(entry)}`;
    },

    async getStreamIdForEventId(eventId: string) {
      const parsed = parse(eventId);
      if (parsed === undefined) return undefined;
      return Number(await run(EXISTS, [prefix + parsed.stream])) === 1 ? parsed.stream : undefined;
    },

    async replayEventsAfter(lastEventId, { send }) {
      const parsed = parse(lastEventId);
      if (parsed === undefined) return "";
      const entries = await run(REPLAY, [prefix + parsed.stream], [parsed.entry, maxEvents]);
      if (!Array.isArray(entries)) return parsed.stream;
      for (const item of entries as unknown[]) {
        if (!Array.isArray(item)) continue;
        const [id, fields] = item as [unknown, unknown];
        const text = Array.isArray(fields) ? (fields as unknown[])[1] : undefined;
        if (typeof text !== "string") continue;
        const message = JSON.parse(text) as JSONRPCMessage;
        // The priming event (empty data) only marks a position; it is not replayed.
        if (Object.keys(message).length > 0) await send(`${parsed.stream}.${String(id)}`, message);
      }
      return parsed.stream;
    },

    async dispose() {
      if (streams.size === 0) return;
      const keys = [...streams].map((stream) => prefix + stream);
      streams.clear();
      await run(DELETE, keys);
    },
  };
}
