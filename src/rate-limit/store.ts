/**
 * The seam between the rate-limit stages and where counters live. One call decides a whole request:
 * every limit it touches (user, tenant, tool) is checked and, only when all have room, charged — one
 * Redis round trip, one atomic script.
 */

/** One quota a request draws on: `cost` units out of `limit` per sliding `windowMs`. */
export interface LimitRule {
  /** Identifies the counter, e.g. `user:t1:alice`. Stores may hash it; it never reaches a client. */
  readonly key: string;
  /** Units this request uses (≥ 1). A cost above `limit` is never admitted. */
  readonly cost: number;
  /** Units allowed in any window of `windowMs` (≥ 1). */
  readonly limit: number;
  /** Window length in milliseconds (≥ 100). */
  readonly windowMs: number;
}

/**
 * Rules decided together. In Redis Cluster every key of one script must live in one slot, so the
 * store derives the hash tag of every key from `group` (e.g. the tenant). A counter is identified by
 * its key *and* its group: always pass a key with the same group.
 */
export interface ConsumeRequest {
  readonly group: string;
  readonly rules: readonly LimitRule[];
}

/** The state of one rule after the decision. */
export interface LimitDecision {
  /** This rule had room for its cost. */
  readonly allowed: boolean;
  /** Units left in the window: after this request when every rule admitted it, else before. */
  readonly remaining: number;
  /**
   * Milliseconds until more quota is available: when this rule refused, until enough has left the
   * window for the request's cost; otherwise until the oldest counted unit leaves it.
   */
  readonly resetMs: number;
}

/** A decision for a whole request: admitted only when every rule had room (then every rule is charged). */
export interface ConsumeResult {
  readonly allowed: boolean;
  /** One per rule, in the order given. */
  readonly decisions: readonly LimitDecision[];
}

/**
 * Where rate-limit counters live. Built-ins: {@link createMemoryStore} (one process) and
 * {@link createRedisStore} (shared by every replica). Implementations are sliding windows: a window of
 * `windowMs` ending at any instant never holds more than `limit` admitted units.
 *
 * @example
 * const store = createRedisStore({ url: "rediss://cache.contoso.com:6380", keyPrefix: "weather:" });
 * createMcpHost({ ..., rateLimitStore: store });
 */
export interface RateLimitStore {
  /** `"memory"`, `"redis"`, or a custom name: shown in logs and `/readyz`. */
  readonly name: string;
  /**
   * Decides and charges atomically. Rejects (or throws) when the store cannot decide, e.g. Redis is
   * unreachable; the host then applies `store.failurePolicy`. May answer synchronously.
   */
  consume(request: ConsumeRequest): ConsumeResult | Promise<ConsumeResult>;
  /** False while the store cannot decide (Redis unreachable); drives `/readyz`. */
  ready(): boolean;
  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** Slots per window: a unit counts until the end of its slot plus the window, so at most 1% late. */
export const SLOTS_PER_WINDOW = 100;

/** The slot width for a window: `windowMs / 100`, at least 1 ms. */
export function slotWidth(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / SLOTS_PER_WINDOW));
}

/** Refuses malformed rules before they reach a store (programming errors, not client input). */
export function checkRules(rules: readonly LimitRule[]): void {
  for (const rule of rules) {
    if (
      !Number.isSafeInteger(rule.cost) ||
      rule.cost < 1 ||
      !Number.isSafeInteger(rule.limit) ||
      rule.limit < 1 ||
      !Number.isSafeInteger(rule.windowMs) ||
      rule.windowMs < 100
    ) {
      throw new RangeError(
        `rate limit rule ${JSON.stringify(rule.key)}: cost and limit must be integers ≥ 1 and windowMs ≥ 100`,
      );
    }
  }
}
