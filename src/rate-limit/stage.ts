import { metrics } from "@opentelemetry/api";
import type { Principal } from "../auth/principal.js";
import { clientAddress } from "../http/client-address.js";
import type { BodyReply, Headers, InboundRequest } from "../http/exchange.js";
import type { ParsedMessage } from "../mcp/parse.js";
import type { Logger } from "../telemetry/logger.js";
import { addLimitHeaders, quotaExceeded, storeUnavailable, type PolicyState } from "./headers.js";
import type { ConsumeResult, LimitRule, RateLimitStore } from "./store.js";

/** What a limiter stage says: refuse with `reply`, or go on (adding `headers` to whatever answer follows). */
export type LimitOutcome =
  | { readonly reply: BodyReply; readonly headers?: undefined }
  | { readonly reply?: undefined; readonly headers: Headers | undefined };

/** How a tool draws on the quotas (from `defineTool`'s `cost` and `rateLimit`). */
export interface ToolLimits {
  /** Units a call of this tool takes from the user's and the tenant's quota. */
  readonly cost: number;
  /** Calls of this tool per user per window, on top of the user's quota. */
  readonly perUser: number | undefined;
}

export interface RateLimitOptions {
  readonly store: RateLimitStore;
  readonly windowMs: number;
  /** 0: off. */
  readonly perAddress: number;
  /** 0: off. */
  readonly perUser: number;
  readonly perTenant: number | undefined;
  readonly trustProxy: boolean;
  readonly failurePolicy: "fail-open" | "fail-closed";
  readonly tools: ReadonlyMap<string, ToolLimits>;
  /** Partition → `pk` (an HMAC: never the id itself). */
  readonly partitionKey: (partition: string) => string;
  readonly logger: Logger;
}

interface Policy {
  readonly name: string;
  readonly partition: string;
  readonly limit: number;
  readonly cost: number;
}

const PASS: LimitOutcome = Object.freeze({ headers: undefined });
const LOG_EVERY_MS = 10_000;

/**
 * Stages 4 and 7 of the pipeline, over one store. Stage 4 counts every request to the MCP endpoint
 * per client address before any credential is read; stage 7 counts per user, per tenant and per tool
 * after `onAuthenticated`. Each decision is one store call, made before anything is sent, so a 429 is
 * never mid-stream and every answer carries its RateLimit fields in the header section.
 */
export function createRateLimitStages(options: RateLimitOptions): {
  readonly preAuth: ((request: InboundRequest) => LimitOutcome | Promise<LimitOutcome>) | undefined;
  readonly perCaller:
    | ((principal: Principal, message: ParsedMessage | undefined) => LimitOutcome | Promise<LimitOutcome>)
    | undefined;
} {
  const { store, windowMs, logger } = options;
  let failures = 0;
  let lastLog = -Infinity;

  function failed(error: unknown): LimitOutcome {
    failures++;
    metrics
      .getMeter("paved-mcp")
      .createCounter("paved.rate_limit.store_errors", {
        description: "Rate-limit decisions the store could not make",
      })
      .add(1, {
        "paved.rate_limit.store": store.name,
        "paved.rate_limit.failure_policy": options.failurePolicy,
      });
    const now = performance.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      lastLog = now;
      logger.error(
        {
          store: store.name,
          failurePolicy: options.failurePolicy,
          failures,
          error: error instanceof Error ? error.message : "unknown error",
        },
        options.failurePolicy === "fail-open"
          ? "rate-limit store unavailable: serving without limits (fail-open)"
          : "rate-limit store unavailable: refusing requests with 503 (fail-closed)",
      );
    }
    return options.failurePolicy === "fail-open" ? PASS : { reply: storeUnavailable() };
  }

  function outcome(
    policies: readonly Policy[],
    keys: readonly string[],
    result: ConsumeResult,
  ): LimitOutcome {
    const states: PolicyState[] = policies.map((policy, index) => {
      const decision = result.decisions[index];
      return {
        name: policy.name,
        limit: policy.limit,
        windowMs,
        pk: options.partitionKey(keys[index] as string),
        remaining: decision?.remaining ?? 0,
        resetMs: decision?.resetMs ?? 0,
      };
    });
    if (!result.allowed) {
      const violated = states.filter((_, index) => result.decisions[index]?.allowed === false);
      return { reply: quotaExceeded(states, violated) };
    }
    const headers: Headers = {};
    addLimitHeaders(headers, states);
    return { headers };
  }

  function decide(group: string, policies: readonly Policy[]): LimitOutcome | Promise<LimitOutcome> {
    const keys = policies.map((policy) => `${policy.name}:${policy.partition}`);
    const rules: LimitRule[] = policies.map((policy, index) => ({
      key: keys[index] as string,
      cost: policy.cost,
      limit: policy.limit,
      windowMs,
    }));
    let pending;
    try {
      pending = store.consume({ group, rules });
    } catch (error) {
      return failed(error);
    }
    if (pending instanceof Promise) {
      return pending.then(
        (result) => outcome(policies, keys, result),
        (error: unknown) => failed(error),
      );
    }
    return outcome(policies, keys, pending);
  }

  const preAuth =
    options.perAddress === 0
      ? undefined
      : (request: InboundRequest) => {
          const address = clientAddress(request, options.trustProxy);
          return decide(`address:${address}`, [
            { name: "address", partition: address, limit: options.perAddress, cost: 1 },
          ]);
        };

  const anyTool = [...options.tools.values()].some((tool) => tool.cost !== 1 || tool.perUser !== undefined);
  const perCaller =
    options.perUser === 0 && options.perTenant === undefined && !anyTool
      ? undefined
      : (principal: Principal, message: ParsedMessage | undefined) => {
          const tool = toolOf(message, options.tools);
          const cost = tool?.limits.cost ?? 1;
          const policies: Policy[] = [];
          if (options.perUser > 0)
            policies.push({ name: "user", partition: principal.id, limit: options.perUser, cost });
          const tenant = principal.tenantId;
          if (options.perTenant !== undefined && tenant !== undefined)
            policies.push({ name: "tenant", partition: tenant, limit: options.perTenant, cost });
          if (tool?.limits.perUser !== undefined)
            policies.push({
              name: `tool:${tool.name}`,
              partition: principal.id,
              limit: tool.limits.perUser,
              cost: 1,
            });
          if (policies.length === 0) return PASS;
          // One hash tag per decision: the tenant's (every user of a tenant shares its slot), else the user's.
          return decide(tenant === undefined ? `user:${principal.id}` : `tenant:${tenant}`, policies);
        };

  return { preAuth, perCaller };
}

/** The tool a `tools/call` names, when it has limits of its own. */
function toolOf(
  message: ParsedMessage | undefined,
  tools: ReadonlyMap<string, ToolLimits>,
): { readonly name: string; readonly limits: ToolLimits } | undefined {
  if (tools.size === 0 || message?.kind !== "request" || message.message.method !== "tools/call")
    return undefined;
  const name = message.target;
  if (name === undefined) return undefined;
  const limits = tools.get(name);
  return limits === undefined ? undefined : { name, limits };
}
