import { createHmac, randomBytes } from "node:crypto";
import type { BodyReply, Headers } from "../http/exchange.js";
import { problemReply } from "../http/responses.js";

/**
 * The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-10 (§3, §4) and the
 * quota-exceeded problem type (§5.1). Values are RFC 9651 Lists: quoted policy names, Integer `q`,
 * `w`, `r`, `t`, and `pk` as a Byte Sequence (`:base64:`).
 */

/** One policy as a response reports it. */
export interface PolicyState {
  /** `address`, `user`, `tenant` or `tool:<name>`. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  /** The partition key, already base64 (see {@link createPartitionKeys}). */
  readonly pk: string;
  readonly remaining: number;
  /** Milliseconds until more quota is available; 0 when nothing is counted. */
  readonly resetMs: number;
}

export const QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded";

/** An RFC 9651 String: quotes, with `\` and `"` escaped. Policy names are printable ASCII. */
const sfString = (value: string): string =>
  value.includes("\\") || value.includes('"')
    ? `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`
    : `"${value}"`;

/** Whole seconds, rounded up: a client never comes back early (RFC 9110 delay-seconds). */
export const seconds = (ms: number): number => Math.ceil(ms / 1000);

/** `"user";q=100;w=60;pk=:…:` — what the policy is (constant for a caller). */
export function policyItem(state: PolicyState): string {
  return `${sfString(state.name)};q=${state.limit};w=${Math.max(1, seconds(state.windowMs))};pk=:${state.pk}:`;
}

/**
 * `"user";r=99;t=60;pk=:…:` — where the caller stands now; `t` is left out when nothing is counted,
 * and never exceeds the window (a unit may count up to one slot, 1% of the window, longer).
 */
export function limitItem(state: PolicyState): string {
  const window = Math.max(1, seconds(state.windowMs));
  const t = state.resetMs > 0 ? `;t=${Math.min(window, seconds(state.resetMs))}` : "";
  return `${sfString(state.name)};r=${state.remaining}${t};pk=:${state.pk}:`;
}

/** Adds the items of `states` to `headers` (appending to lists already there, e.g. stage 4's). */
export function addLimitHeaders(headers: Headers, states: readonly PolicyState[]): void {
  if (states.length === 0) return;
  const policy = states.map(policyItem).join(", ");
  const limit = states.map(limitItem).join(", ");
  const policyBefore = headers["ratelimit-policy"];
  const limitBefore = headers.ratelimit;
  headers["ratelimit-policy"] = policyBefore === undefined ? policy : `${policyBefore}, ${policy}`;
  headers.ratelimit = limitBefore === undefined ? limit : `${limitBefore}, ${limit}`;
}

/**
 * Partition keys that identify a caller's quota without revealing who it is (draft-10 §6.1): the
 * first 16 bytes of HMAC-SHA256 over the partition, base64, with a random key per process. The same
 * caller always gets the same key from one process. A small cache spares the HMAC per request.
 */
export function createPartitionKeys(secret: Uint8Array = randomBytes(32)): (partition: string) => string {
  const cache = new Map<string, string>();
  return (partition) => {
    let key = cache.get(partition);
    if (key === undefined) {
      key = createHmac("sha256", secret).update(partition).digest().subarray(0, 16).toString("base64");
      if (cache.size >= 10_000) cache.clear();
      cache.set(partition, key);
    }
    return key;
  };
}

/**
 * 429 with the quota-exceeded problem (draft-10 §5.1), `Retry-After` no earlier than the `t` of any
 * violated policy (§6), and the RateLimit fields of every policy the request touched.
 */
export function quotaExceeded(states: readonly PolicyState[], violated: readonly PolicyState[]): BodyReply {
  const retryAfter = Math.max(1, ...violated.map((state) => seconds(state.resetMs)));
  const headers: Headers = { "retry-after": String(retryAfter) };
  addLimitHeaders(headers, states);
  const names = violated.map((state) => state.name);
  return {
    ...problemReply(
      429,
      "rate_limited",
      {
        type: QUOTA_EXCEEDED,
        title: "Request cannot be satisfied as assigned quota has been exceeded",
        detail: `Too many requests: retry in ${retryAfter} s`,
        "violated-policies": names,
      },
      headers,
    ),
    detail: { kind: "rate_limit", policy: names[0] ?? "" },
  };
}

/** 503 when the counters cannot be reached and `store.failurePolicy` is `fail-closed`. */
export function storeUnavailable(): BodyReply {
  return problemReply(
    503,
    "rate_limit_unavailable",
    {
      type: "about:blank",
      title: "Service Unavailable",
      detail: "Rate limits cannot be checked right now; retry shortly",
    },
    { "retry-after": "1" },
  );
}

/**
 * Puts the RateLimit fields the earlier stages recorded on the final answer, ahead of any the answer
 * already carries (a stage-7 429 has its own). `target` is mutated.
 */
export function prependLimitHeaders(target: Headers, recorded: Headers): void {
  for (const name of ["ratelimit-policy", "ratelimit"] as const) {
    const early = recorded[name];
    if (early === undefined) continue;
    const late = target[name];
    target[name] = late === undefined ? early : `${early}, ${late}`;
  }
}
