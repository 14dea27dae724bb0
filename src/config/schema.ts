import { isAbsolute } from "node:path";
import { z } from "zod";
import { MIN_KEY_BYTES, decodeKey } from "../state/key-ring.js";
import { azureAdSchema, oidcSchema, secureUrl } from "./identity-schema.js";

/**
 * The one source of truth for Paved's configuration. `docs/configuration.md` is generated from this
 * file (`npm run docs:config`), so every key's description, default and example live here.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

/** The public origin: an https URL (http only on loopback) with no query or fragment. */
const publicOrigin = secureUrl;

const endpointPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~\-/]*$/, { error: "a path starting with / (letters, digits, . _ ~ - /)" })
  .refine((value) => value === "/" || !value.endsWith("/"), { error: "a path without a trailing slash" })
  .refine((value) => !value.startsWith("/.well-known"), { error: "a path outside /.well-known" });

const hostname = z.string().regex(/^(\*|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/, {
  error: "a host name without port (e.g. api.contoso.com, 127.0.0.1, [::1]) or * for any host",
});

const origin = z
  .string()
  .regex(/^(https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?|https?:\/\/\[[0-9a-fA-F:.]+\](:\d{1,5})?)$/, {
    error: "an origin: scheme://host[:port] with no path (e.g. https://app.contoso.com)",
  });

const milliseconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** Where other replicas reach this one: an http(s) origin, no path (internal addresses are plain http). */
const replicaUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === "http:" || url.protocol === "https:") &&
        url.username === "" &&
        url.password === "" &&
        url.pathname === "/" &&
        !/[?#]/.test(value) &&
        !value.endsWith("/")
      );
    } catch {
      return false;
    }
  },
  { error: "an http(s) origin with no path, query or trailing slash (e.g. http://10.0.0.12:8080)" },
);

/** A secret key: base64 (or base64url) of at least 32 bytes. The message never repeats the value. */
const stateKey = z.string().refine((value) => decodeKey(value) !== undefined, {
  error: `base64 of at least ${MIN_KEY_BYTES} random bytes (e.g. from openssl rand -base64 32)`,
});

export const serverSchema = z
  .strictObject({
    resourceHost: publicOrigin
      .optional()
      .describe(
        "Public origin clients use to reach this server (the audience of its tokens). The MCP URL is `resourceHost` + `path`. Required by `paved start`.",
      )
      .meta({ example: "https://mcp.contoso.com" }),
    path: endpointPath.default("/mcp").describe("Path of the MCP endpoint.").meta({ example: "/mcp" }),
    supportedScopes: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Scopes a client requests for basic use, fully qualified (published in the metadata and the 401 challenge). A token must hold one of them, unless the list only has `.default` scopes. Default with Entra: `<applicationIdUri>/.default`.",
      )
      .meta({ example: ["api://00000000-0000-0000-0000-000000000001/Weather.Read"] }),
    stateless: z
      .boolean()
      .default(true)
      .describe(
        "Serve 2025-era clients without sessions. `false` adds the opt-in stateful mode (Mcp-Session-Id, GET streams, resumable events) for clients that need server-to-client requests.",
      ),
    allowedHosts: z
      .array(hostname)
      .min(1)
      .optional()
      .describe(
        'Host header allow-list for the MCP endpoint (DNS-rebinding defence), matched on the host name without the port. Default: `localhost`, `127.0.0.1` and `[::1]`, plus the host of `resourceHost` when it is set. A list you configure replaces the default, loopback names included. `["*"]` disables the check.',
      )
      .meta({ example: ["mcp.contoso.com"] }),
    allowedOrigins: z
      .array(origin)
      .optional()
      .describe(
        "Origins allowed to call the MCP endpoint from a browser. A request with another Origin gets 403. Requests without Origin are not browser requests and pass. Default: the origin of `resourceHost`, plus any loopback origin when it is unset or on loopback.",
      )
      .meta({ example: ["https://app.contoso.com"] }),
    maxBodyBytes: z
      .number()
      .int()
      .min(KIB)
      .max(64 * MIB)
      .default(4 * MIB)
      .describe("Largest accepted request body in bytes; larger bodies get 413."),
    maxHeaderBytes: z
      .number()
      .int()
      .min(4 * KIB)
      .max(64 * KIB)
      .default(16 * KIB)
      .describe("Largest accepted request head (request line and headers) in bytes; larger heads get 431."),
    headersTimeoutMs: milliseconds(1_000, 120_000)
      .default(10_000)
      .describe("Time a client has to send the complete request head (slowloris defence)."),
    requestTimeoutMs: milliseconds(1_000, 600_000)
      .default(30_000)
      .describe("Time a client has to send the complete request, head and body."),
    keepAliveTimeoutMs: milliseconds(1_000, 600_000)
      .default(5_000)
      .describe("How long an idle keep-alive connection stays open."),
    requestDeadlineMs: milliseconds(1_000, 3_600_000)
      .default(120_000)
      .describe(
        "Deadline for one MCP request: when it passes, the handler's `signal` aborts and the client gets a JSON-RPC error.",
      ),
    shutdownGraceMs: milliseconds(0, 600_000)
      .default(10_000)
      .describe("On SIGTERM/SIGINT: how long in-flight requests may run before connections are closed."),
    trustProxy: z
      .boolean()
      .default(false)
      .describe(
        "Take the client address from `X-Forwarded-For` (set only behind a proxy you control that overwrites it): the last entry, the one that proxy appended. Used by the pre-auth rate limit.",
      ),
    maxRequestsPerMinutePerUser: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(100)
      .describe(
        "Requests (quota units: a tool's `cost` counts) one user (`Principal.id`) may make per rate-limit window (`rateLimitWindowMs`, one minute by default), across every replica sharing `store.redis`. Beyond it: 429. `0` turns the limit off. Not applied when authentication is off.",
      ),
    maxRequestsPerMinutePerTenant: z
      .number()
      .int()
      .min(1)
      .max(100_000_000)
      .optional()
      .describe(
        "Requests all users of one tenant (`Principal.tenantId`) may make together per rate-limit window. Default: no tenant limit.",
      )
      .meta({ example: 2000 }),
    maxRequestsPerMinutePerClientAddress: z
      .number()
      .int()
      .min(0)
      .max(100_000_000)
      .default(3000)
      .describe(
        "Requests to the MCP endpoint one client address may make per rate-limit window, counted before any token is looked at (floods of bad tokens get 429 without signature checks). Generous, because users behind one NAT share an address; IPv6 counts per /64. `0` turns it off.",
      ),
    rateLimitWindowMs: milliseconds(1_000, 86_400_000)
      .refine((value) => value % 1_000 === 0, { error: "whole seconds: a multiple of 1000" })
      .default(60_000)
      .describe(
        "Length of the sliding rate-limit window for every limit above. The `max…PerMinute…` keys are quotas per window, so they are per minute with the default.",
      ),
    sessions: z
      .strictObject({
        idleTimeoutMs: milliseconds(1_000, 86_400_000)
          .default(1_800_000)
          .describe("Stateful mode: a session unused this long is closed and its id answers 404."),
        maxPerUser: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(20)
          .describe(
            "Stateful mode: open sessions one principal may hold; a new one beyond it evicts the oldest.",
          ),
        maxTotal: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(10_000)
          .describe("Stateful mode: open sessions in this process; `initialize` beyond it gets 503."),
      })
      .prefault({})
      .describe("Opt-in stateful mode (`stateless: false`) for 2025-era clients."),
    replicaUrl: replicaUrl
      .optional()
      .describe(
        "Stateful mode across replicas: the URL other replicas use to reach this one directly (its pod or VM address, never the load balancer), where they forward requests for the sessions this replica owns. Default: the address the server listens on, or the first non-loopback IPv4 address when it listens on every interface.",
      )
      .meta({ example: "http://10.0.0.12:8080" }),
    stateKeys: z
      .array(stateKey)
      .min(1)
      .optional()
      .describe(
        "Shared secret keys, the same list on every replica: they seal 2026-07-28 multi-round-trip `requestState` and sign requests forwarded between replicas. The first key signs, every key verifies: to rotate, put the new key first and drop the old one once every replica runs with the new list. Each is base64 of at least 32 random bytes (`openssl rand -base64 32`); keep them in a secret store (Key Vault), not in a file. Default: a random key per process, which only works with one replica; required for stateful mode with a shared session registry.",
      )
      .meta({ example: ["Zm9yLWRvY3Mtb25seS1uZXZlci11c2UtdGhpcy1rZXkh"] }),
  })
  .prefault({});

/** A Redis connection URL: `redis://` or `rediss://` (TLS) with a host. Never echoed: it may hold a password. */
const redisUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "";
    } catch {
      return false;
    }
  },
  { error: "a redis:// or rediss:// URL with a host (e.g. rediss://cache.contoso.com:6380)" },
);

export const storeSchema = z
  .strictObject({
    redis: redisUrl
      .optional()
      .describe(
        "Redis (or Valkey, Azure Cache for Redis) holding the rate-limit counters and, in stateful mode, the session registry and resumable stream events, so limits and sessions hold across replicas: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. Keep the password in the environment (`PAVED_STORE__REDIS`) or a secret store. Default: counters and sessions in memory, per process.",
      )
      .meta({ example: "rediss://:password@contoso.redis.cache.windows.net:6380" }),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{0,64}$/, {
        error: "at most 64 letters, digits, colons, dots, dashes or underscores",
      })
      .default("paved:")
      .describe("Prefix of every Redis key Paved writes, so several servers can share one Redis."),
    failurePolicy: z
      .enum(["fail-open", "fail-closed"])
      .default("fail-open")
      .describe(
        "What rate limits do while Redis cannot be reached: `fail-open` serves without limits (logged and counted in `paved.rate_limit.store_errors`), `fail-closed` answers 503. Either way `/readyz` reports not ready until Redis is back; reconnection is automatic.",
      ),
  })
  .prefault({});

const AUDIT_LOG = "log, stdout, stderr, off, or an absolute file path";

export const telemetrySchema = z
  .strictObject({
    serviceName: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("Service name in logs and telemetry. Default: the server name given to `createMcpHost`."),
    logLevel: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info")
      .describe("Lowest level written to the log."),
    auditLog: z
      .union(
        [
          z.enum(["log", "stdout", "stderr", "off"]),
          z.string().refine((value) => isAbsolute(value), { error: AUDIT_LOG }),
        ],
        { error: AUDIT_LOG },
      )
      .default("log")
      .describe(
        'Where audit events go (`auth.failed`, `access.denied`, `rate_limited`, `tool.invoked`; JSON lines with `"stream": "audit"`, always at `info`): `log` (the application log), `stdout`, `stderr`, an absolute file path (appended), or `off`.',
      )
      .meta({ example: "/var/log/paved/audit.jsonl" }),
    captureContent: z
      .boolean()
      .default(false)
      .describe(
        "Record tool arguments and results on MCP operation spans (`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`, cut at 16 KiB). They may hold personal or secret data: enable only when your trace store may hold them.",
      ),
    prometheus: z
      .boolean()
      .default(false)
      .describe(
        "Serve metrics at `GET /metrics` in Prometheus text format, without credentials like `/healthz`: keep the path off your public ingress. `paved dev` and `paved start` attach the exporter (install `@opentelemetry/sdk-node` and `@opentelemetry/exporter-prometheus`).",
      ),
  })
  .prefault({});

/** `<resource>/.default` and explicit scopes of the same resource in one list: Entra refuses it (ENTRA-17). */
export function mixedDefaultScopes(scopes: readonly string[]): string | undefined {
  const byResource = new Map<string, string[]>();
  for (const scope of scopes) {
    const cut = scope.lastIndexOf("/");
    if (cut <= 0) continue;
    const resource = scope.slice(0, cut);
    byResource.set(resource, [...(byResource.get(resource) ?? []), scope.slice(cut + 1)]);
  }
  for (const [resource, names] of byResource)
    if (names.includes(".default") && names.length > 1) return resource;
  return undefined;
}

const downstreamApiSchema = z.strictObject({
  baseUrl: secureUrl
    .describe(
      "Where the API lives; `ctx.downstream.fetch` only sends requests under it (https, http only on loopback).",
    )
    .meta({ example: "https://graph.microsoft.com/v1.0/" }),
  scopes: z
    .array(z.string().min(1))
    .min(1)
    .refine((scopes) => mixedDefaultScopes(scopes) === undefined, {
      error:
        "either <resource>/.default or explicit scopes of that resource, not both (Entra refuses the mix)",
    })
    .describe("Scopes of the on-behalf-of token for this API, fully qualified.")
    .meta({ example: ["https://graph.microsoft.com/User.Read"] }),
  timeoutMs: milliseconds(100, 600_000)
    .default(30_000)
    .describe("Deadline of one call, token acquisition included; the tool's own `signal` also applies."),
});

export const downstreamSchema = z
  .record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
      error: "an API name: a letter, then letters, digits, - or _ (at most 64)",
    }),
    downstreamApiSchema,
  )
  .default({})
  .describe(
    "Downstream APIs tools call on behalf of the user (`ctx.downstream.fetch(name, path)`), by name: `{ baseUrl, scopes, timeoutMs }`. Needs `azureAd.clientCredentials`. From the environment: one JSON object in `PAVED_DOWNSTREAM`.",
  )
  .meta({
    example: {
      graph: {
        baseUrl: "https://graph.microsoft.com/v1.0/",
        scopes: ["https://graph.microsoft.com/User.Read"],
        timeoutMs: 30_000,
      },
    },
  });

export const configSchema = z
  .strictObject({
    azureAd: azureAdSchema.optional(),
    oidc: oidcSchema.optional(),
    server: serverSchema,
    store: storeSchema,
    telemetry: telemetrySchema,
    downstream: downstreamSchema,
  })
  .refine((config) => config.azureAd === undefined || config.oidc === undefined, {
    error: "configure one identity provider: azureAd or oidc, not both",
    path: ["oidc"],
  });

/** The configuration as written in a file, the environment or code: every key optional. */
export type PavedConfigInput = z.input<typeof configSchema>;
/** The parsed, defaulted and frozen configuration. */
export type PavedConfig = z.output<typeof configSchema>;
export type ServerConfig = PavedConfig["server"];
export type AzureAdConfig = NonNullable<PavedConfig["azureAd"]>;
export type OidcConfig = NonNullable<PavedConfig["oidc"]>;
export type StoreConfig = PavedConfig["store"];
export type DownstreamConfig = PavedConfig["downstream"];
export type DownstreamApiConfig = DownstreamConfig[string];
