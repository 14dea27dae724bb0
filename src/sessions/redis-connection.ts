import { createHash } from "node:crypto";
import { openRedisClient, scrub, type RedisClient } from "../redis-client.js";
import type { Logger } from "../telemetry/logger.js";
import { withTimeout, type RedisEval } from "./redis-eval.js";

export interface RedisConnectionOptions {
  /** `redis://…` or `rediss://…` (`store.redis`). Never logged: it may hold a password. */
  readonly url: string;
  /** A command slower than this fails. Default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Time to establish a connection before retrying. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  readonly logger: Logger;
}

/** A connection the session registry and event stores share. */
export interface RedisConnection extends RedisEval {
  /** Connected and answering: the `/readyz` check `sessions`. */
  ready(): boolean;
  close(): Promise<void>;
}

const sha1 = (text: string): string => createHash("sha1").update(text).digest("hex");

/**
 * Connects to Redis for the stateful-session stores: scripts run as `EVALSHA` (falling back to
 * `EVAL` when the server lost its script cache), nothing queues while disconnected (a command
 * fails at once), and the client reconnects on its own.
 */
export function connectRedis(options: RedisConnectionOptions): RedisConnection {
  const timeout = options.commandTimeoutMs ?? 1_000;
  const { logger } = options;
  const digests = new Map<string, string>();
  let client: RedisClient | undefined;
  let closed = false;
  let firstReady: (() => void) | undefined;
  /** Settles once the first connection is up: commands right after start-up wait for it (bounded). */
  const connected = new Promise<void>((resolve) => {
    firstReady = resolve;
  });

  const loading = openRedisClient({
    url: options.url,
    connectTimeoutMs: options.connectTimeoutMs,
    isClosed: () => closed,
    onDown: (error) => {
      logger.error(
        { store: "redis", error },
        "session registry: Redis unreachable; sessions held here keep working, others get 503",
      );
    },
    onUp: (_created, recovered) => {
      if (recovered) logger.warn({ store: "redis" }, "session registry: Redis reachable again");
      firstReady?.();
      firstReady = undefined;
    },
    onUnavailable: (error) => {
      logger.error({ store: "redis", error }, "session registry: the Redis client could not be loaded");
    },
  }).then((created) => {
    client = created;
    return created;
  });

  return {
    async eval(script, keys, args) {
      const current = client ?? (await loading);
      if (current === undefined || closed)
        throw new Error(closed ? "the session registry is closed" : "the Redis client could not be loaded");
      if (!current.isReady && firstReady !== undefined)
        await withTimeout(connected, timeout).catch(() => undefined);
      if (!current.isReady) throw new Error("Redis is not connected");
      let digest = digests.get(script);
      if (digest === undefined) {
        digest = sha1(script);
        digests.set(script, digest);
      }
      const rest = [String(keys.length), ...keys, ...args];
      try {
        return await current.sendCommand(["EVALSHA", digest, ...rest], { timeout });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!message.startsWith("NOSCRIPT")) throw new Error(scrub(message), { cause: error });
        return current.sendCommand(["EVAL", script, ...rest], { timeout });
      }
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
