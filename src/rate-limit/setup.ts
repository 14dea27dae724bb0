import type { PavedConfig } from "../config/schema.js";
import { PavedError } from "../errors.js";
import type { ReadinessCheck } from "../http/routes.js";
import type { ToolDefinition } from "../mcp/definitions.js";
import type { Logger } from "../telemetry/logger.js";
import { createPartitionKeys } from "./headers.js";
import { createMemoryStore } from "./memory-store.js";
import { createRedisStore } from "./redis-store.js";
import { createRateLimitStages, type ToolLimits } from "./stage.js";
import type { RateLimitStore } from "./store.js";

export interface RateLimits {
  readonly store: RateLimitStore;
  readonly stages: ReturnType<typeof createRateLimitStages>;
  /** `/readyz` condition for a shared store (none for the memory store). */
  readonly readiness: ReadinessCheck | undefined;
  /** Closes the store when the host made it. */
  close(): Promise<void>;
}

/**
 * The host's rate limits from configuration: the store (`options.store`, else Redis when
 * `store.redis` is set, else memory) and stages 4 and 7. Per-user and per-tenant limits need an
 * identity: with authentication off only the per-address limit applies.
 */
export function createRateLimits(
  config: PavedConfig,
  options: {
    readonly store: RateLimitStore | undefined;
    readonly tools: readonly ToolDefinition[];
    readonly authenticated: boolean;
    readonly logger: Logger;
  },
): RateLimits {
  const { server } = config;
  const perUser = options.authenticated ? server.maxRequestsPerMinutePerUser : 0;
  const perTenant = options.authenticated ? server.maxRequestsPerMinutePerTenant : undefined;
  const tools = new Map<string, ToolLimits>();
  for (const tool of options.tools) {
    const limits: ToolLimits = { cost: tool.cost, perUser: tool.rateLimit?.perUser };
    const quota = Math.min(perUser === 0 ? Infinity : perUser, perTenant ?? Infinity);
    if (limits.cost > quota) {
      throw new PavedError(
        "ERR_HOST_OPTIONS",
        `Tool "${tool.name}" costs ${limits.cost} units, more than the rate limit of ${quota} per window: it could never be called`,
      );
    }
    if (limits.cost !== 1 || limits.perUser !== undefined) tools.set(tool.name, limits);
  }
  if (!options.authenticated) tools.clear();

  const owned = options.store === undefined;
  const store =
    options.store ??
    (config.store.redis === undefined
      ? createMemoryStore()
      : createRedisStore({
          url: config.store.redis,
          keyPrefix: config.store.keyPrefix,
          logger: options.logger,
        }));
  const stages = createRateLimitStages({
    store,
    windowMs: server.rateLimitWindowMs,
    perAddress: server.maxRequestsPerMinutePerClientAddress,
    perUser,
    perTenant,
    trustProxy: server.trustProxy,
    failurePolicy: config.store.failurePolicy,
    tools,
    partitionKey: createPartitionKeys(),
    logger: options.logger,
  });
  return {
    store,
    stages,
    readiness: store.name === "memory" ? undefined : { name: "rate-limit-store", check: () => store.ready() },
    close: () => (owned ? store.close() : Promise.resolve()),
  };
}
