import { withTimeout, type RedisEval } from "./redis-eval.js";
import {
  ownerKey,
  type RegistryLimits,
  type SessionRecord,
  type SessionRegistry,
} from "./session-registry.js";

export interface RedisSessionRegistryOptions {
  readonly redis: RedisEval;
  /** Prefix of every key. Default `paved:sess:`. */
  readonly prefix?: string;
  /** Longest wait for one Redis operation, in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** Called by `close()`, e.g. to quit a connection the registry owns. */
  readonly onClose?: () => Promise<void>;
}

/** Milliseconds on the Redis server's clock, so replicas with skewed clocks agree. */
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: record, index. ARGV: id, record value, ttl ms, max per user, record key prefix.
 * The evicted records share the index's hash tag (same owner), so they live in the same slot.
 */
const REGISTER = `${NOW}
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over <= 0 then return {} end
local evicted = redis.call('ZRANGE', KEYS[2], 0, over - 1)
for _, id in ipairs(evicted) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('DEL', ARGV[5] .. id)
end
return evicted`;

/** KEYS: record, index. ARGV: id, ttl ms. 1 when the session is live (and now extended), else 0. */
const TOUCH = `${NOW}
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 0`;

/** KEYS: record. The value and the remaining milliseconds, with the server's clock. */
const LOOKUP = `${NOW}
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, redis.call('PTTL', KEYS[1]), now}`;

/** KEYS: record. */
const EXISTS = `return redis.call('EXISTS', KEYS[1])`;

/** KEYS: record, index. ARGV: id. */
const REMOVE = `redis.call('DEL', KEYS[1]) redis.call('ZREM', KEYS[2], ARGV[1]) return 1`;

/** KEYS: index. ARGV: record key prefix. Drops index entries whose record lapsed; returns the rest. */
const COUNT = `local live = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then live = live + 1 else redis.call('ZREM', KEYS[1], id) end
end
return live`;

/**
 * The session registry on Redis, shared by every replica: one string per session (its replica,
 * expiring after the idle timeout) and one sorted set per owner (its sessions by last use) for the
 * per-user cap. Keys of one owner share a hash tag (`{<owner digest>}`), so each operation is one
 * atomic script on one Redis Cluster slot, and no user id appears in a key.
 *
 * @example
 * const registry = createRedisSessionRegistry({ redis: connection });
 */
export function createRedisSessionRegistry(options: RedisSessionRegistryOptions): SessionRegistry {
  const prefix = options.prefix ?? "paved:sess:";
  const timeoutMs = options.timeoutMs ?? 2_000;
  const keysOf = (owner: string) => {
    const base = `${prefix}{${ownerKey(owner)}}:`;
    return { records: `${base}s:`, index: `${base}i` };
  };
  const run = (script: string, keys: readonly string[], args: readonly string[]) =>
    withTimeout(options.redis.eval(script, keys, args), timeoutMs);

  return {
    shared: true,
    async register(record, limits: RegistryLimits) {
      const { records, index } = keysOf(record.owner);
      const evicted = await run(
        REGISTER,
        [records + record.id, index],
        [
          record.id,
          JSON.stringify({ r: record.replica }),
          String(limits.ttlMs),
          String(limits.maxPerUser),
          records,
        ],
      );
      return Array.isArray(evicted) ? evicted.map(String) : [];
    },
    async lookup(owner, id) {
      const { records } = keysOf(owner);
      const reply = await run(LOOKUP, [records + id], []);
      if (!Array.isArray(reply) || reply.length !== 3) return undefined;
      const [value, ttl, now] = reply as [unknown, unknown, unknown];
      let replica: unknown;
      try {
        replica = (JSON.parse(String(value)) as { r?: unknown }).r;
      } catch {
        return undefined;
      }
      if (typeof replica !== "string") return undefined;
      const record: SessionRecord = { id, owner, replica, expiresAt: Number(now) + Math.max(0, Number(ttl)) };
      return record;
    },
    async touch(owner, id, limits) {
      const { records, index } = keysOf(owner);
      return Number(await run(TOUCH, [records + id, index], [id, String(limits.ttlMs)])) === 1;
    },
    async exists(owner, id) {
      const { records } = keysOf(owner);
      return Number(await run(EXISTS, [records + id], [])) === 1;
    },
    async remove(owner, id) {
      const { records, index } = keysOf(owner);
      await run(REMOVE, [records + id, index], [id]);
    },
    async count(owner) {
      const { records, index } = keysOf(owner);
      return Number(await run(COUNT, [index], [records]));
    },
    async close() {
      await options.onClose?.();
    },
  };
}
