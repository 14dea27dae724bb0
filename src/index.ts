export {
  createMcpHost,
  type McpHost,
  type McpHostOptions,
  type HostInfo,
  type RejectionEvent,
  type RequestInfo,
} from "./host.js";
export {
  defineTool,
  defineResource,
  definePrompt,
  type ToolDefinition,
  type ToolOptions,
  type ToolReturn,
  type ResourceDefinition,
  type ResourceOptions,
  type PromptDefinition,
  type PromptOptions,
  type AccessRequirements,
  type SchemaLike,
  type Infer,
} from "./mcp/definitions.js";
export type { ToolContext } from "./mcp/context.js";
export { DownstreamError, ClaimsChallengeError, type DownstreamErrorCode } from "./downstream/errors.js";
export type { Downstream } from "./downstream/fetch.js";
export type { FactoryInfo } from "./mcp/server-builder.js";
export { toolsFrom } from "./mcp/discovery.js";
export { tool, toolsOf } from "./mcp/class-tools.js";
export { loadConfig, parseConfig, type LoadConfigOptions } from "./config/load.js";
export { configSchema, type PavedConfig, type PavedConfigInput, type ServerConfig } from "./config/schema.js";
export type { Principal } from "./auth/principal.js";
export {
  InvalidTokenError,
  IdentityUnavailableError,
  type TokenValidator,
  type ManagedTokenValidator,
  type ValidatedToken,
} from "./auth/token-validator.js";
export type { AccessRule } from "./auth/authorize.js";
export type { ReadinessCheck } from "./http/routes.js";
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from "./rate-limit/memory-store.js";
export { createRedisStore, StoreUnavailableError, type RedisStoreOptions } from "./rate-limit/redis-store.js";
export type {
  RateLimitStore,
  ConsumeRequest,
  ConsumeResult,
  LimitDecision,
  LimitRule,
} from "./rate-limit/store.js";
export {
  PavedError,
  ConfigError,
  ToolError,
  type PavedErrorCode,
  type ConfigIssue,
  type ConfigSource,
} from "./errors.js";
export {
  type SessionRegistry,
  type SessionRecord,
  type RegistryLimits,
} from "./sessions/session-registry.js";
export { createMemorySessionRegistry } from "./sessions/memory-session-registry.js";
export {
  createRedisSessionRegistry,
  type RedisSessionRegistryOptions,
} from "./sessions/redis-session-registry.js";
export type { RedisEval } from "./sessions/redis-eval.js";
export { ResourceTemplate, completable, inputRequired, acceptedContent } from "@modelcontextprotocol/server";
