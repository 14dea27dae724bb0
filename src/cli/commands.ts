import { startDevEnvironment } from "../dev/dev-environment.js";
import { clientSecretInUse } from "../downstream/diagnose.js";
import { PavedError } from "../errors.js";
import type { McpHost } from "../host-options.js";
import { isLoopbackHostname } from "../http/loopback.js";
import { serve, type RunningServer } from "../node/serve.js";
import { startOpenTelemetry } from "../telemetry/otel-sdk.js";
import { clientSetupLines, writeClientConfig, type ClientName } from "./client-config.js";
import { loadEntry } from "./load-entry.js";

export interface Output {
  log(line: string): void;
}

/** Why `paved start` will not serve a host, one reason a line; empty when it is fit for production. */
export function productionProblems(host: McpHost): string[] {
  const problems: string[] = [];
  if (host.info.authentication === "disabled") {
    problems.push("authentication is disabled (insecureNoAuth): configure an identity provider");
  }
  const resourceHost = host.info.config.server.resourceHost;
  if (resourceHost === undefined)
    problems.push("server.resourceHost is not set: set the public https origin of this server");
  else if (!resourceHost.startsWith("https://"))
    problems.push(`server.resourceHost must be https in production (got ${resourceHost})`);
  // Only the development identity provider lives on loopback: its tokens are minted by anyone with the key file.
  const instance = host.info.config.azureAd?.instance;
  if (instance !== undefined && isLoopbackHostname(new URL(instance).hostname)) {
    problems.push(
      `azureAd.instance is the development identity provider (${instance}): point it at Entra ID, e.g. https://login.microsoftonline.com/`,
    );
  }
  return problems;
}

/** `paved start [entry]`: production serving; refuses unsafe hosts; listens on every interface unless HOST says otherwise. */
export async function start(entry: string | undefined, out: Output): Promise<RunningServer> {
  const host = await loadEntry(entry);
  const problems = productionProblems(host);
  if (problems.length > 0) {
    await host.close();
    throw new PavedError(
      "ERR_UNSAFE_START",
      `paved start refuses to serve this host:\n${problems.map((p) => `  - ${p}`).join("\n")}\nUse "paved dev" for local development.`,
    );
  }
  // The OpenTelemetry SDK, when OTEL_* variables ask for it: flushed once the server has closed.
  const stopTelemetry = await startOpenTelemetry(host, out);
  const running = await serve(host, { host: process.env["HOST"] || "0.0.0.0" }).catch(
    async (error: unknown) => {
      await stopTelemetry?.();
      throw error;
    },
  );
  if (stopTelemetry !== undefined) running.server.once("close", () => void stopTelemetry());
  out.log(`paved: serving ${host.info.name} ${host.info.version} at ${running.url.href}`);
  if (clientSecretInUse(host.info.config))
    out.log(
      "paved: warning: downstream calls authenticate with a client secret (azureAd.clientCredentials): development only; use a managed identity, workload identity or a certificate",
    );
  return running;
}

/**
 * `paved dev [entry]`: local serving on loopback, with how to connect a client. The development
 * identity provider starts first and the `PAVED_AZUREAD__*` variables point at it before the entry
 * is imported, so the entry's `loadConfig()` sees them.
 */
export async function dev(
  entry: string | undefined,
  out: Output,
  options: { readonly printConfig?: ClientName } = {},
): Promise<RunningServer> {
  const identity = await startDevEnvironment();
  let host: McpHost;
  let running: RunningServer;
  let stopTelemetry: (() => Promise<void>) | undefined;
  try {
    host = await loadEntry(entry);
    // Tokens the provider mints by default should open every tool the host declares.
    await identity?.provider.expose(host.info.scopes, host.info.roles);
    stopTelemetry = await startOpenTelemetry(host, out);
    running = await serve(host, {
      host: process.env["HOST"] || "127.0.0.1",
      ...(identity !== undefined && { port: identity.mcpPort }),
    });
  } catch (error) {
    await stopTelemetry?.();
    await identity?.provider.close();
    throw error;
  }
  // The provider's socket would keep the process alive after a graceful shutdown.
  running.server.once("close", () => void identity?.provider.close());
  if (stopTelemetry !== undefined) running.server.once("close", () => void stopTelemetry());
  const url = running.url.href;
  out.log(`paved: ${host.info.name} ${host.info.version} (development) at ${url}`);
  if (host.info.authentication === "disabled")
    out.log("paved: authentication is OFF (insecureNoAuth): never deploy this host");
  if (identity !== undefined) for (const line of await identity.banner()) out.log(line);
  out.log("");
  const served = { name: host.info.name, url };
  for (const line of clientSetupLines(served, host.info.authentication === "required")) out.log(line);
  // The token is printed above; a shell variable keeps it out of the command line history.
  const auth = host.info.authentication === "required" ? ` -H "authorization: Bearer $TOKEN"` : "";
  out.log(`  curl:           curl -s ${url}${auth} \\`);
  out.log(
    `                    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\`,
  );
  out.log(`                    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'`);
  const client = options.printConfig;
  if (client !== undefined) {
    // A file that cannot be written is reported; the server keeps serving.
    await writeClientConfig(client, served, process.cwd()).then(
      (file) => out.log(`paved: wrote the ${client} configuration for ${served.name} to ${file}`),
      (error: unknown) => out.log(`paved: could not write the ${client} configuration: ${String(error)}`),
    );
  }
  return running;
}
