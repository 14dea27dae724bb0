import { z } from "zod";
import { azureAdSchema, oidcSchema } from "./identity-schema.js";

/**
 * The one source of truth for Paved's configuration. `docs/configuration.md` is generated from this
 * file (`npm run docs:config`), so every key's description, default and example live here.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/** An absolute http(s) URL with no query or fragment; plain http only for loopback hosts. */
const publicOrigin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      // `new URL` reports an empty query or fragment as "": look at the text too.
      if (value.includes("?") || value.includes("#") || url.username !== "" || url.password !== "")
        return false;
      if (url.protocol === "https:") return true;
      return url.protocol === "http:" && isLoopbackHost(url.hostname);
    } catch {
      return false;
    }
  },
  { error: "an https URL without query or fragment (http is allowed only for localhost and 127.0.0.1)" },
);

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
        'Host header allow-list for the MCP endpoint (DNS-rebinding defence). Default: the host of `resourceHost`, or the loopback names when it is unset. `["*"]` disables the check.',
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
        "Take the client address from `X-Forwarded-For` (set only behind a proxy you control that overwrites it).",
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
  })
  .prefault({});

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
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    azureAd: azureAdSchema.optional(),
    oidc: oidcSchema.optional(),
    server: serverSchema,
    telemetry: telemetrySchema,
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
