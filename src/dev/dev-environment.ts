import { createServer } from "node:net";
import { resolve } from "node:path";
import { loadConfig } from "../config/load.js";
import type { PavedConfig } from "../config/schema.js";
import { GUID } from "./ids.js";
import { createDevIdentityProvider, type DevIdentityProvider } from "./identity-provider.js";

/**
 * `paved dev`'s side of the development identity provider: start it before the entry is imported,
 * and point the entry's `loadConfig()` at it through `PAVED_AZUREAD__*` variables.
 */

/** Variables `paved dev` reads for itself. They are removed before the entry loads its configuration, where an unknown `PAVED_` key is an error. */
const OWN_VARIABLES = ["PAVED_DEV_IDP_PORT", "PAVED_DEV_IDP_SCOPES", "PAVED_DEV_IDP_ROLES"] as const;

export interface DevEnvironment {
  readonly provider: DevIdentityProvider;
  /** The port the MCP server must listen on (chosen up front, because the resource host names it). */
  readonly mcpPort: number;
  /** What to print once the MCP server listens: the provider, its client, a ready token. */
  banner(): Promise<string[]>;
}

type Env = Record<string, string | undefined>;

function portFrom(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError(`${name} must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

/** A free port, found by binding port 0 and releasing it (the MCP server binds it moments later). */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, host, () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not find a free port");
  return address.port;
}

const list = (value: string | undefined): string[] | undefined => {
  const items = value
    ?.split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return items === undefined || items.length === 0 ? undefined : items;
};

/**
 * Starts the provider for `paved dev` and sets `PAVED_AZUREAD__INSTANCE`, `__TENANTID`, `__CLIENTID`
 * (plus `__APPLICATIONIDURI` and `PAVED_SERVER__RESOURCEHOST` when the configuration has none) in
 * `env`. IDs and the Application ID URI already configured are reused, so the provider impersonates
 * the app the host is configured for. Returns `undefined` when the host is configured for a
 * generic OIDC issuer instead (both cannot be configured).
 */
export async function startDevEnvironment(
  env: Env = process.env,
  cwd = process.cwd(),
): Promise<DevEnvironment | undefined> {
  const own = Object.fromEntries(OWN_VARIABLES.map((name) => [name, env[name]]));
  for (const name of OWN_VARIABLES) Reflect.deleteProperty(env, name);

  // The configuration as the entry will see it, to learn its path and any identity settings; if it
  // is invalid the entry reports it in full moments later, so defaults do here.
  let config: PavedConfig | undefined;
  try {
    config = await loadConfig({ env, cwd });
  } catch {
    config = undefined;
  }
  if (config?.oidc !== undefined) return undefined;

  const listenHost = env["HOST"] || "127.0.0.1";
  let mcpPort = portFrom("PORT", env["PORT"], 8080);
  if (mcpPort === 0) mcpPort = await freePort(listenHost);
  const resourceHost = config?.server.resourceHost ?? `http://127.0.0.1:${mcpPort}`;
  const configured = config?.azureAd;
  // The MCP URL as Application ID URI: MCP clients send it as RFC 8707 `resource`, and Entra (so
  // this provider) accepts `resource` only when it equals the Application ID URI.
  const applicationIdUri = configured?.applicationIdUri ?? `${resourceHost}${config?.server.path ?? "/mcp"}`;
  const fromSupported = config?.server.supportedScopes
    ?.filter((scope) => scope.startsWith(`${applicationIdUri}/`) && !scope.endsWith("/.default"))
    .map((scope) => scope.slice(applicationIdUri.length + 1));
  const scopes =
    list(own["PAVED_DEV_IDP_SCOPES"]) ??
    (fromSupported !== undefined && fromSupported.length > 0 ? fromSupported : undefined);
  const roles = list(own["PAVED_DEV_IDP_ROLES"]);

  const provider = await createDevIdentityProvider({
    port: portFrom("PAVED_DEV_IDP_PORT", own["PAVED_DEV_IDP_PORT"], 0),
    stateDir: resolve(cwd, ".paved"),
    ...(configured !== undefined && GUID.test(configured.tenantId) && { tenantId: configured.tenantId }),
    ...(configured !== undefined && { clientId: configured.clientId }),
    applicationIdUri,
    ...(scopes !== undefined && { scopes }),
    ...(roles !== undefined && { roles }),
    ...(configured !== undefined &&
      !configured.tokenVersions.includes(2) && { accessTokenVersion: 1 as const }),
  });

  env["PAVED_AZUREAD__INSTANCE"] = provider.instance;
  env["PAVED_AZUREAD__TENANTID"] = provider.tenantId;
  env["PAVED_AZUREAD__CLIENTID"] = provider.clientId;
  if (configured?.applicationIdUri === undefined)
    env["PAVED_AZUREAD__APPLICATIONIDURI"] = provider.applicationIdUri;
  if (config?.server.resourceHost === undefined && env["PAVED_SERVER__RESOURCEHOST"] === undefined)
    env["PAVED_SERVER__RESOURCEHOST"] = resourceHost;

  return {
    provider,
    mcpPort,
    async banner() {
      const token = await provider.mintToken({ user: "alice" });
      const { clientId, clientSecret } = provider.confidentialClient;
      return [
        `Development identity provider (Entra-shaped, loopback only): ${provider.url}`,
        `  issuer:               ${provider.issuer}`,
        `  Application ID URI:   ${provider.applicationIdUri}`,
        `  client credentials:   client_id=${clientId} client_secret=${clientSecret} scope=${provider.applicationIdUri}/.default`,
        `  bearer token for alice (60 min; another: npx paved token --user bob --scopes ...):`,
        `  ${token}`,
      ];
    },
  };
}
