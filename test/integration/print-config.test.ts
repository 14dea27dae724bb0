import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "../fixtures/cli.js";

const ENTRY = join(ROOT, "test/fixtures/entries/slow.mjs");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "paved-print-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `paved dev` in a project folder of its own, so the files it writes land there. */
function devIn(cwd: string, args: readonly string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("PAVED_") && key !== "HOST"),
  );
  const child = spawn(process.execPath, [CLI, "dev", ...args], { cwd, env: { ...env, PORT: "0" } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, output: () => output, exited };
}

describe("paved dev --print-config", () => {
  it("prints each client's set-up and writes the one asked for", async () => {
    const dev = devIn(dir, [ENTRY, "--print-config", "vscode"]);
    try {
      const deadline = Date.now() + 15_000;
      while (!dev.output().includes("paved: wrote") && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 25));
      const output = dev.output();
      const url = /\(development\) at (http:\/\/\S+)/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      expect(output).toContain(`claude mcp add --transport http slow ${url!}`);
      expect(output).toContain(`npx @modelcontextprotocol/inspector --transport http --server-url ${url!}`);
      expect(output).toContain("paved: wrote the vscode configuration for slow to .vscode/mcp.json");
      expect(JSON.parse(readFileSync(join(dir, ".vscode/mcp.json"), "utf8"))).toEqual({
        servers: { slow: { type: "http", url } },
      });
    } finally {
      dev.child.kill("SIGTERM");
      await dev.exited;
    }
  });

  it("refuses an unknown client before serving anything", async () => {
    const dev = devIn(dir, [ENTRY, "--print-config", "notepad"]);
    expect(await dev.exited).toBe(2);
    expect(dev.output()).toContain('--print-config takes one of vscode, claude, inspector, got "notepad"');
  });
});
