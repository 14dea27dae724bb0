import { createHash } from "node:crypto";
import { scrub } from "../rate-limit/redis-store.js";
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

/** The few client methods used here; the client (`@redis/client`, as the rate-limit store) loads lazily. */
interface Client {
  readonly isReady: boolean;
  sendCommand(args: readonly string[], options?: { timeout?: number }): Promise<unknown>;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
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
  let client: Client | undefined;
  let closed = false;
  let failing = false;
  let firstReady: (() => void) | undefined;
  /** Settles once the first connection is up: commands right after start-up wait for it (bounded). */
  const connected = new Promise<void>((resolve) => {
    firstReady = resolve;
  });

  const loading = import("@redis/client").then((redis) => {
    if (closed) return undefined;
    const created = redis.createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 2_000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
      },
    }) as unknown as Client;
    created.on("error", (error: unknown) => {
      if (failing) return;
      failing = true;
      logger.error(
        { store: "redis", error: scrub(error instanceof Error ? error.message : String(error)) },
        "session registry: Redis unreachable; sessions held here keep working, others get 503",
      );
    });
    created.on("ready", () => {
      if (failing) logger.warn({ store: "redis" }, "session registry: Redis reachable again");
      failing = false;
      firstReady?.();
      firstReady = undefined;
    });
    client = created;
    created.connect().catch(() => {
      // Reported through the "error" event; the client keeps reconnecting.
    });
    return created;
  });
  loading.catch((error: unknown) => {
    logger.error(
      { store: "redis", error: scrub(error instanceof Error ? error.message : String(error)) },
      "session registry: the Redis client could not be loaded",
    );
  });

  return {
    async eval(script, keys, args) {
      const current = client ?? (await loading);
      if (current === undefined || closed) throw new Error("the session registry is closed");
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
      const current = client ?? (await loading.catch(() => undefined));
      current?.destroy();
    },
  };
}
