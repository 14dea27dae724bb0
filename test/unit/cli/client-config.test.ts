import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientConfig,
  clientSetupLines,
  mergeConfig,
  writeClientConfig,
} from "../../../src/cli/client-config.js";
import { parseDevArguments } from "../../../src/cli/dev-arguments.js";

const server = { name: "weather", url: "http://127.0.0.1:8080/mcp" };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "paved-client-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const read = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), "utf8"));

describe("client configuration", () => {
  it("writes VS Code's .vscode/mcp.json, keeping the servers already there", async () => {
    await mkdir(join(dir, ".vscode"));
    await writeFile(
      join(dir, ".vscode/mcp.json"),
      JSON.stringify({ inputs: [], servers: { other: { type: "stdio", command: "x" } } }),
    );
    expect(await writeClientConfig("vscode", server, dir)).toBe(".vscode/mcp.json");
    expect(read(".vscode/mcp.json")).toEqual({
      inputs: [],
      servers: { other: { type: "stdio", command: "x" }, weather: { type: "http", url: server.url } },
    });
  });

  it("writes Claude Code's .mcp.json and the Inspector's --config file", async () => {
    expect(await writeClientConfig("claude", server, dir)).toBe(".mcp.json");
    expect(read(".mcp.json")).toEqual({ mcpServers: { weather: { type: "http", url: server.url } } });
    expect(await writeClientConfig("inspector", server, dir)).toBe(".paved/inspector.json");
    expect(read(".paved/inspector.json")).toEqual({
      mcpServers: { weather: { type: "http", url: server.url, protocolEra: "auto" } },
    });
  });

  it("refuses to rewrite a file with comments, and says what to add instead", () => {
    expect(() =>
      mergeConfig('{ // mine\n "servers": {} }', clientConfig("vscode", server), "weather"),
    ).toThrow(/not plain JSON.*"weather": \{"type":"http","url":"http:\/\/127\.0\.0\.1:8080\/mcp"\}/);
    expect(() => mergeConfig("[]", clientConfig("claude", server), "weather")).toThrow(/JSON object/);
  });

  it("prints one line per client", () => {
    const lines = clientSetupLines(server, true).join("\n");
    expect(lines).toContain(
      '.vscode/mcp.json  { "servers": {"weather":{"type":"http","url":"http://127.0.0.1:8080/mcp"}} }',
    );
    expect(lines).toContain("claude mcp add --transport http weather http://127.0.0.1:8080/mcp");
    expect(lines).toContain(
      "npx @modelcontextprotocol/inspector --transport http --server-url http://127.0.0.1:8080/mcp",
    );
    expect(lines).toContain("signs in against the development identity provider");
  });

  it("parses paved dev's arguments", () => {
    expect(parseDevArguments([])).toEqual({ entry: undefined });
    expect(parseDevArguments(["dist/x.js", "--print-config", "claude"])).toEqual({
      entry: "dist/x.js",
      printConfig: "claude",
    });
    expect(parseDevArguments(["--print-config", "cursor"])).toBe(
      '--print-config takes one of vscode, claude, inspector, got "cursor"',
    );
    expect(parseDevArguments(["a", "b"])).toBe("unexpected arguments: b");
    expect(parseDevArguments(["--nope"])).toMatch(/Unknown option '--nope'/);
  });
});
