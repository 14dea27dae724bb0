import type { Implementation, McpServer } from "@modelcontextprotocol/server";
import type { Principal } from "./auth/principal.js";
import type { TokenValidator } from "./auth/token-validator.js";
import type { PavedConfig, PavedConfigInput } from "./config/schema.js";
import { PavedError } from "./errors.js";
import type { ReadinessCheck } from "./http/routes.js";
import type { PromptDefinition, ResourceDefinition, ToolDefinition } from "./mcp/definitions.js";
import type { FactoryInfo } from "./mcp/server-builder.js";
import type { RateLimitStore } from "./rate-limit/store.js";
import type { SessionRegistry } from "./sessions/session-registry.js";
import type { Logger } from "./telemetry/logger.js";

/** The request a hook is told about: never its headers or body, which may hold credentials. */
export interface RequestInfo {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly remoteAddress: string;
}

/** A request the pipeline refused, for audit (`onRejected`). */
export interface RejectionEvent extends RequestInfo {
  readonly status: number;
  /** Stable reason, e.g. `invalid_token`, `insufficient_scope`, `origin_not_allowed`. */
  readonly reason: string;
  /** The caller, when the request got as far as authentication. */
  readonly principalId: string | undefined;
}

export interface McpHostOptions {
  /** From {@link loadConfig} (file + environment), or plain values in code. Default: all defaults. */
  readonly config?: PavedConfig | PavedConfigInput;
  /** Name and version the server reports to clients. */
  readonly server: Implementation;
  /** Guidance for the model on how to use this server, sent to clients. */
  readonly instructions?: string;
  readonly tools?: readonly ToolDefinition[];
  readonly resources?: readonly ResourceDefinition[];
  readonly prompts?: readonly PromptDefinition[];
  /**
   * Escape hatch: called with every SDK `McpServer` Paved builds (one per protocol era, and one per
   * session in stateful mode), to register anything directly on it.
   */
  readonly factory?: (server: McpServer, info: FactoryInfo) => void;
  /**
   * Validates bearer tokens yourself instead of the configured `azureAd` / `oidc` provider.
   * Exactly one identity is required unless `insecureNoAuth` is set.
   */
  readonly tokenValidator?: TokenValidator;
  /** With `tokenValidator`: the issuers published in the Protected Resource Metadata. */
  readonly authorizationServers?: readonly string[];
  /**
   * Development only: serve without authentication; every caller is anonymous. `paved start`
   * refuses to serve such a host.
   */
  readonly insecureNoAuth?: boolean;
  /** A custom rule every authenticated request must pass (pipeline stage 9); `false` → 403. */
  readonly authorize?: (principal: Principal) => boolean;
  /**
   * Runs right after authentication (pipeline stage 6): tenant allow-lists, custom checks.
   * Return `false` (or reject) to refuse the request with 403.
   */
  readonly onAuthenticated?: (
    principal: Principal,
    request: RequestInfo,
  ) => boolean | undefined | Promise<boolean | undefined>;
  /** Told about every refused request (stages 2 to 10), for audit. Must not throw. */
  readonly onRejected?: (event: RejectionEvent) => void;
  /** Extra conditions for `/readyz`. */
  readonly readiness?: readonly ReadinessCheck[];
  /** Where logs go. Default: JSON lines on standard output at `telemetry.logLevel`. */
  readonly logger?: Logger;
  /**
   * Where rate-limit counters live. Default: Redis when `store.redis` is set, else this process's
   * memory. The host closes only a store it made.
   */
  readonly rateLimitStore?: RateLimitStore;
  /**
   * Where audit events go (`auth.failed`, `access.denied`, `rate_limited`, `tool.invoked`), always
   * at `info`. Default: `telemetry.auditLog` (by default a child of `logger` with `stream: "audit"`).
   */
  readonly auditLogger?: Logger;
  /**
   * Stateful mode: where sessions are recorded (which replica holds each one). Default: Redis when
   * `store.redis` is set, else this process's memory. Hosts given the same registry act as replicas
   * that forward each other's sessions (they need the same `server.stateKeys`).
   */
  readonly sessionRegistry?: SessionRegistry;
}

/** What the CLI and adapters may ask a host about itself. */
export interface HostInfo {
  readonly name: string;
  readonly version: string;
  /** The MCP endpoint path. */
  readonly path: string;
  readonly authentication: "required" | "disabled";
  readonly stateless: boolean;
  /** Every scope (short name) the tools, prompts and resources declare. */
  readonly scopes: readonly string[];
  /** Every app role they declare. */
  readonly roles: readonly string[];
  readonly config: PavedConfig;
}

/** An MCP server ready to be mounted: `fetch` for any web-standard runtime, `paved-mcp/node` for Node. */
export interface McpHost {
  /** Serves one request. */
  fetch(request: Request, options?: { remoteAddress?: string }): Promise<Response>;
  /** Stops serving: in-flight requests are cancelled, sessions closed. Idempotent. */
  close(): Promise<void>;
  readonly info: HostInfo;
}

/** Refuses option mistakes at construction, with a message that says what to do. */
export function checkOptions(options: McpHostOptions): void {
  if (typeof options !== "object" || options === null)
    throw new PavedError("ERR_HOST_OPTIONS", "createMcpHost needs an options object");
  if (typeof options.server?.name !== "string" || typeof options.server.version !== "string") {
    throw new PavedError("ERR_HOST_OPTIONS", "createMcpHost: `server` needs a name and a version");
  }
  const seen = new Set<string>();
  for (const [kind, list] of [
    ["tools", options.tools],
    ["resources", options.resources],
    ["prompts", options.prompts],
  ] as const) {
    for (const item of list ?? []) {
      const expected = kind.slice(0, -1);
      if ((item as { kind?: unknown }).kind !== expected) {
        throw new PavedError(
          "ERR_HOST_OPTIONS",
          `createMcpHost: every entry of \`${kind}\` must come from define${expected[0]?.toUpperCase()}${expected.slice(1)}()`,
        );
      }
      const key = `${expected}:${item.name}`;
      if (seen.has(key))
        throw new PavedError("ERR_HOST_OPTIONS", `createMcpHost: two ${kind} are named "${item.name}"`);
      seen.add(key);
    }
  }
}
