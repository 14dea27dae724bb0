import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PavedError } from "../errors.js";

/** The MCP clients `paved dev --print-config` writes configuration for. */
export const CLIENT_NAMES = ["vscode", "claude", "inspector"] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

export function isClientName(value: string): value is ClientName {
  return (CLIENT_NAMES as readonly string[]).includes(value);
}

/** What a client needs to know about the server being served. */
export interface ServedServer {
  /** The server's name (`host.info.name`): the key of its entry. */
  readonly name: string;
  /** The MCP endpoint URL. */
  readonly url: string;
}

/** One client's configuration: the file, the object inside it that lists servers, and this server's entry. */
export interface ClientConfig {
  readonly client: ClientName;
  /** Relative to the project directory. */
  readonly file: string;
  readonly section: "servers" | "mcpServers";
  readonly entry: Readonly<Record<string, unknown>>;
}

/**
 * No OAuth settings are needed against the development identity provider: each of these clients
 * follows the 401 challenge to the Protected Resource Metadata, finds the provider, registers
 * itself (dynamic registration or a client ID metadata document) and opens its consent page.
 */
export function clientConfig(client: ClientName, server: ServedServer): ClientConfig {
  switch (client) {
    case "vscode":
      return {
        client,
        file: ".vscode/mcp.json",
        section: "servers",
        entry: { type: "http", url: server.url },
      };
    case "claude":
      return { client, file: ".mcp.json", section: "mcpServers", entry: { type: "http", url: server.url } };
    case "inspector":
      // Inspector v2's --config format; `auto` lets it negotiate the 2026-07-28 era, which Paved serves.
      return {
        client,
        file: ".paved/inspector.json",
        section: "mcpServers",
        entry: { type: "http", url: server.url, protocolEra: "auto" },
      };
  }
}

/** The configuration file's content with this server's entry set, other entries kept. */
export function mergeConfig(existing: string | undefined, config: ClientConfig, name: string): string {
  let document: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch {
      // VS Code allows comments in mcp.json; rewriting such a file would drop them.
      throw new PavedError(
        "ERR_CONFIG_FILE",
        `${config.file} is not plain JSON (comments?): add the entry yourself: "${name}": ${JSON.stringify(config.entry)}`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new PavedError("ERR_CONFIG_FILE", `${config.file} does not hold a JSON object`);
    document = parsed as Record<string, unknown>;
  }
  const section = document[config.section];
  const servers =
    typeof section === "object" && section !== null && !Array.isArray(section)
      ? (section as Record<string, unknown>)
      : {};
  return `${JSON.stringify({ ...document, [config.section]: { ...servers, [name]: config.entry } }, null, 2)}\n`;
}

/** Writes (or updates) the client's configuration file in `cwd`; returns the path written, relative. */
export async function writeClientConfig(
  client: ClientName,
  server: ServedServer,
  cwd: string,
): Promise<string> {
  const config = clientConfig(client, server);
  const path = join(cwd, config.file);
  const existing = existsSync(path) ? await readFile(path, "utf8") : undefined;
  const content = mergeConfig(existing, config, server.name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return config.file;
}

/** What `paved dev` prints under "Connect a client". */
export function clientSetupLines(server: ServedServer, authenticated: boolean): string[] {
  const { name, url } = server;
  const entry = (client: ClientName) => JSON.stringify({ [name]: clientConfig(client, server).entry });
  const lines = [
    authenticated
      ? "Connect a client (each signs in against the development identity provider on its own):"
      : "Connect a client:",
    `  VS Code:        .vscode/mcp.json  { "servers": ${entry("vscode")} }`,
    `  Claude Code:    claude mcp add --transport http ${name} ${url}`,
    `  MCP Inspector:  npx @modelcontextprotocol/inspector --transport http --server-url ${url}`,
    `  Write one:      paved dev --print-config vscode|claude|inspector  (see docs/clients.md)`,
  ];
  return lines;
}
