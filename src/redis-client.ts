/** The few `@redis/client` methods Paved uses; the package is loaded on first use. */
export interface RedisClient {
  readonly isReady: boolean;
  sendCommand(args: readonly string[], options?: { timeout?: number }): Promise<unknown>;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** An error message with the password of any Redis URL in it masked. */
export function scrub(message: string): string {
  return message.replace(/\b(rediss?:\/\/)[^\s@/]*@/gi, "$1***@");
}

const messageOf = (error: unknown): string => scrub(error instanceof Error ? error.message : String(error));

export interface RedisClientOptions {
  /** `redis://…` or `rediss://…`. Never logged: it may hold a password. */
  readonly url: string;
  /** Time to establish a connection before retrying. Default 2000 ms. */
  readonly connectTimeoutMs?: number | undefined;
  /** True once the owner closed: a client loaded after that is not connected. */
  readonly isClosed: () => boolean;
  /** The connection went down (once per outage); the message is scrubbed. */
  readonly onDown: (message: string) => void;
  /** The connection is up; `recovered` when it had been down. */
  readonly onUp: (client: RedisClient, recovered: boolean) => void;
  /** `@redis/client` could not be loaded; the message is scrubbed. */
  readonly onUnavailable: (message: string) => void;
}

/**
 * Loads `@redis/client` and connects: nothing queues while disconnected (a command fails at once),
 * and the client reconnects on its own, backing off to one attempt a second. Resolves `undefined`
 * when the owner closed before the package loaded, or when it could not be loaded.
 */
export function openRedisClient(options: RedisClientOptions): Promise<RedisClient | undefined> {
  let failing = false;
  return import("@redis/client").then(
    (redis) => {
      if (options.isClosed()) return undefined;
      const client = redis.createClient({
        url: options.url,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: options.connectTimeoutMs ?? 2_000,
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
        },
      }) as unknown as RedisClient;
      client.on("error", (error: unknown) => {
        if (failing) return;
        failing = true;
        options.onDown(messageOf(error));
      });
      client.on("ready", () => {
        const recovered = failing;
        failing = false;
        options.onUp(client, recovered);
      });
      client.connect().catch(() => {
        // Reported through the "error" event; the client keeps reconnecting.
      });
      return client;
    },
    (error: unknown) => {
      options.onUnavailable(messageOf(error));
      return undefined;
    },
  );
}
