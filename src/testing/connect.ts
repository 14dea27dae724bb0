import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { McpHost } from "../host-options.js";

export interface ConnectOptions {
  /** `modern` negotiates 2026-07-28; `legacy` (default of the SDK client) uses the 2025 handshake. */
  readonly era?: "modern" | "legacy";
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly clientInfo?: { readonly name: string; readonly version: string };
}

/** The base URL tests talk to: the host's own public URL when configured, else loopback. */
export function endpointOf(host: McpHost): URL {
  const origin = host.info.config.server.resourceHost ?? "http://localhost";
  return new URL(host.info.path, origin);
}

/**
 * An official MCP client wired to the host in-process: every request goes through `host.fetch`,
 * so the whole pipeline runs with no socket and no network.
 *
 * @example
 * const client = await connectClient(host, { era: "modern", token: await host.mintToken() });
 * const result = await client.callTool({ name: "get_weather", arguments: { city: "Oslo" } });
 */
export async function connectClient(host: McpHost, options: ConnectOptions = {}): Promise<Client> {
  const client = new Client(
    options.clientInfo ?? { name: "paved-test-client", version: "1.0.0" },
    options.era === "modern" ? { versionNegotiation: { mode: "auto" } } : {},
  );
  const transport = new StreamableHTTPClientTransport(endpointOf(host), {
    fetch: (input, init) => host.fetch(new Request(input, init)),
    ...(options.token !== undefined && {
      requestInit: { headers: { authorization: `Bearer ${options.token}` } },
    }),
  });
  await client.connect(transport);
  return client;
}
