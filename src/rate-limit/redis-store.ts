import { createHash, randomUUID } from "node:crypto";
import { openRedisClient, scrub, type RedisClient } from "../redis-client.js";
import type { Logger } from "../telemetry/logger.js";
import { CONSUME_SCRIPT, CONSUME_SHA } from "./redis-script.js";
import {
  checkRules,
  type ConsumeRequest,
  type ConsumeResult,
  type LimitDecision,
  type RateLimitStore,
} from "./store.js";

export interface RedisStoreOptions {
  /**
   * `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS; Azure Cache for Redis uses port
   * 6380). Never logged: it may hold a password.
   */
  readonly url: string;
  /** Prepended to every key, e.g. `weather:`; lets several servers share one Redis. Default `paved:`. */
  readonly keyPrefix?: string;
  /** A decision that takes longer than this fails (then `store.failurePolicy` applies). Default 250 ms. */
  readonly commandTimeoutMs?: number;
  /** Time to establish a connection before retrying. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /** Where connection problems are reported (never with the URL). Default: nowhere. */
  readonly logger?: Logger;
}

/** Raised when the store cannot decide: the host applies `store.failurePolicy`. */
export class StoreUnavailableError extends Error {
  readonly code = "ERR_RATE_LIMIT_STORE_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** The few client methods the store uses, so tests can reason about them and the import stays lazy. */

const digest = (text: string): string => createHash("sha256").update(text).digest("base64url").slice(0, 22);

/** Removes anything URL-like with credentials from an error message. */

function decode(reply: unknown, count: number): ConsumeResult {
  if (!Array.isArray(reply) || reply.length !== 1 + 3 * count)
    throw new StoreUnavailableError("unexpected reply from the rate-limit script");
  const numbers = reply.map(Number);
  const decisions: LimitDecision[] = [];
  for (let index = 0; index < count; index++) {
    decisions.push({
      remaining: numbers[1 + 3 * index] as number,
      resetMs: numbers[2 + 3 * index] as number,
      allowed: numbers[3 + 3 * index] === 1,
    });
  }
  return { allowed: numbers[0] === 1, decisions };
}

/**
 * Counters in Redis, shared by every replica: one `EVALSHA` per decision (falling back to `EVAL` when
 * the server lost its script cache), atomic, on the server's clock. Keys of one decision share a hash
 * tag, so it works on Redis Cluster; keys hold hashes of ids, never the ids themselves. Works with
 * Redis ≥ 6, Valkey and Azure Cache for Redis. The client (`@redis/client`) is loaded on first use.
 *
 * @example
 * const store = createRedisStore({ url: process.env.REDIS_URL!, keyPrefix: "weather:" });
 */
export function createRedisStore(options: RedisStoreOptions): RateLimitStore {
  const prefix = `${options.keyPrefix ?? "paved:"}rl:`;
  const timeout = options.commandTimeoutMs ?? 250;
  const logger = options.logger;
  let client: RedisClient | undefined;
  let closed = false;
  const instance = randomUUID().slice(0, 8);

  const loading = openRedisClient({
    url: options.url,
    connectTimeoutMs: options.connectTimeoutMs,
    isClosed: () => closed,
    onDown: (error) => {
      logger?.error(
        { store: "redis", instance, error },
        "rate-limit store: Redis unreachable; store.failurePolicy applies until it is back",
      );
    },
    onUp: (created, recovered) => {
      // Load the script now (again after a server restart), so decisions need no EVAL fallback.
      created.sendCommand(["SCRIPT", "LOAD", CONSUME_SCRIPT]).catch(() => undefined);
      if (recovered) logger?.warn({ store: "redis", instance }, "rate-limit store: Redis reachable again");
      else logger?.info({ store: "redis", instance }, "rate-limit store: connected to Redis");
    },
    onUnavailable: (error) => {
      logger?.error({ store: "redis", error }, "rate-limit store: the Redis client could not be loaded");
    },
  }).then((created) => {
    client = created;
    return created;
  });

  async function run(command: readonly string[]): Promise<unknown> {
    const current = client ?? (await loading);
    if (current === undefined || closed)
      throw new StoreUnavailableError(
        closed ? "the rate-limit store is closed" : "the Redis client could not be loaded",
      );
    if (!current.isReady) throw new StoreUnavailableError("Redis is not connected");
    try {
      return await current.sendCommand(command, { timeout });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith("NOSCRIPT") && command[0] === "EVALSHA") {
        return run(["EVAL", CONSUME_SCRIPT, ...command.slice(2)]);
      }
      throw new StoreUnavailableError(scrub(message), { cause: error });
    }
  }

  return {
    name: "redis",
    async consume(request: ConsumeRequest): Promise<ConsumeResult> {
      checkRules(request.rules);
      const tag = `{${digest(request.group)}}`;
      const keys: string[] = [];
      const args: string[] = [];
      for (const rule of request.rules) {
        const colon = rule.key.indexOf(":");
        const kind = colon > 0 ? rule.key.slice(0, colon) : "key";
        keys.push(`${prefix}${tag}:${kind}:${digest(rule.key)}`);
        args.push(String(rule.cost), String(rule.limit), String(rule.windowMs));
      }
      const reply = await run(["EVALSHA", CONSUME_SHA, String(keys.length), ...keys, ...args]);
      return decode(reply, request.rules.length);
    },
    ready: () => !closed && client?.isReady === true,
    async close() {
      if (closed) return;
      closed = true;
      const current = client ?? (await loading);
      current?.destroy();
    },
  };
}
