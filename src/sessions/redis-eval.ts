/**
 * The little of a Redis client the session stores need: run a Lua script atomically on the server.
 * Every operation is one script, one round trip, touching keys of one hash tag (one owner), so it
 * also runs on Redis Cluster. Adapters exist for the Redis client Paved uses (`src/sessions/redis-connection.ts`);
 * anything that can `EVAL` fits.
 */
export interface RedisEval {
  /** Runs `script` with `KEYS` = `keys` and `ARGV` = `args`; resolves with its reply. */
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

/** A store operation that did not answer in time: Redis is unreachable or overloaded. */
export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = "RedisTimeoutError";
  }
}

/** Bounds one operation, so an unreachable Redis turns into an error rather than a request that hangs. */
export function withTimeout<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
    timer.unref();
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
