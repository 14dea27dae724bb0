import {
  checkRules,
  slotWidth,
  type ConsumeRequest,
  type ConsumeResult,
  type LimitDecision,
  type LimitRule,
  type RateLimitStore,
} from "./store.js";

export interface MemoryStoreOptions {
  /**
   * Most counters held at once (one per user, tenant, tool and client address in use). When full,
   * expired counters go first, then the least recently used one (its count is forgotten, which only
   * ever admits more). Each counter takes about 100 bytes, at most ~2 KiB. Default 100000.
   */
  readonly maxKeys?: number;
  /** How often expired counters are swept, in milliseconds. Default 10000. */
  readonly sweepIntervalMs?: number;
  /** The clock, in milliseconds (monotonic). Default `performance.now()`; tests pass their own. */
  readonly now?: () => number;
}

/** The memory store with its bookkeeping visible, for tests and the benchmark. */
export interface MemoryStore extends RateLimitStore {
  /** Decides synchronously. */
  consume(request: ConsumeRequest): ConsumeResult;
  /** Counters held now. */
  readonly size: number;
  /** Drops every expired counter now (also runs on a timer). */
  sweep(): void;
}

/**
 * One counter: a sliding log of slots, flat as `[slot, units, slot, units, …]`, oldest first. A unit
 * admitted in slot `s` counts until `(s + 1) · slotMs + windowMs`: never earlier than its exact
 * expiry, at most one slot (1% of the window) later, so no window ever holds more than the limit.
 */
interface Counter {
  readonly log: number[];
  total: number;
  /** When the newest unit leaves the window: the whole counter can be dropped then. */
  expiresAt: number;
}

function expire(counter: Counter, slotMs: number, windowMs: number, now: number): void {
  const log = counter.log;
  let drop = 0;
  while (drop < log.length && ((log[drop] as number) + 1) * slotMs + windowMs <= now) {
    counter.total -= log[drop + 1] as number;
    drop += 2;
  }
  if (drop > 0) log.splice(0, drop);
}

/** When the oldest counted unit leaves the window (0 when none is counted). */
function oldestReset(counter: Counter, rule: LimitRule, slotMs: number, now: number): number {
  const oldest = counter.log[0];
  return oldest === undefined ? 0 : (oldest + 1) * slotMs + rule.windowMs - now;
}

/** When enough units have left the window for `cost` more to fit. */
function refusalReset(counter: Counter, rule: LimitRule, slotMs: number, now: number): number {
  if (rule.cost > rule.limit) return rule.windowMs;
  let excess = counter.total + rule.cost - rule.limit;
  const log = counter.log;
  for (let index = 0; index < log.length; index += 2) {
    excess -= log[index + 1] as number;
    if (excess <= 0) return ((log[index] as number) + 1) * slotMs + rule.windowMs - now;
  }
  return rule.windowMs;
}

/**
 * The default store: counters in this process (limits are per replica). Sliding window with 100
 * slots per window, the same algorithm as the Redis store (docs/rate-limits.md).
 *
 * @example
 * const host = createMcpHost({ ..., rateLimitStore: createMemoryStore({ maxKeys: 50_000 }) });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? (() => performance.now());
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
    throw new RangeError("createMemoryStore: maxKeys must be a positive integer");
  const counters = new Map<string, Counter>();
  let lastSweep = -Infinity;

  function sweep(): void {
    const at = now();
    lastSweep = at;
    for (const [key, counter] of counters) if (counter.expiresAt <= at) counters.delete(key);
  }

  function make(key: string, at: number): Counter {
    if (counters.size >= maxKeys) {
      // A full sweep at most once per second; otherwise the least recently used counter goes.
      if (at - lastSweep >= 1_000) sweep();
      if (counters.size >= maxKeys) {
        const oldest = counters.keys().next();
        if (oldest.done !== true) counters.delete(oldest.value);
      }
    }
    const counter: Counter = { log: [], total: 0, expiresAt: at };
    counters.set(key, counter);
    return counter;
  }

  const interval = options.sweepIntervalMs ?? 10_000;
  const timer = setInterval(sweep, interval);
  timer.unref();

  return {
    name: "memory",
    get size() {
      return counters.size;
    },
    sweep,
    consume(request: ConsumeRequest): ConsumeResult {
      checkRules(request.rules);
      const at = now();
      const found: Counter[] = [];
      const decisions: LimitDecision[] = [];
      let allowed = true;
      for (const rule of request.rules) {
        const slotMs = slotWidth(rule.windowMs);
        let counter = counters.get(rule.key);
        if (counter === undefined) counter = make(rule.key, at);
        else {
          // Most recently used last: Map order is the eviction order.
          counters.delete(rule.key);
          counters.set(rule.key, counter);
          expire(counter, slotMs, rule.windowMs, at);
        }
        found.push(counter);
        const room = rule.limit - counter.total;
        const fits = rule.cost <= room;
        if (!fits) allowed = false;
        decisions.push({
          allowed: fits,
          remaining: Math.max(0, room),
          resetMs: fits ? oldestReset(counter, rule, slotMs, at) : refusalReset(counter, rule, slotMs, at),
        });
      }
      if (!allowed) return { allowed, decisions };
      return {
        allowed,
        decisions: request.rules.map((rule, index) => {
          const counter = found[index] as Counter;
          const slotMs = slotWidth(rule.windowMs);
          const slot = Math.floor(at / slotMs);
          const log = counter.log;
          const last = log.length - 1;
          if (last > 0 && log[last - 1] === slot) log[last] = (log[last] as number) + rule.cost;
          else log.push(slot, rule.cost);
          counter.total += rule.cost;
          counter.expiresAt = (slot + 1) * slotMs + rule.windowMs;
          return {
            allowed: true,
            remaining: rule.limit - counter.total,
            resetMs: ((log[0] as number) + 1) * slotMs + rule.windowMs - at,
          };
        }),
      };
    },
    ready: () => true,
    close() {
      clearInterval(timer);
      counters.clear();
      return Promise.resolve();
    },
  };
}
