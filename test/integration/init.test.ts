import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "../fixtures/cli.js";

/**
 * What a newcomer does, end to end: `paved init`, install (the packed paved-mcp tarball, the rest
 * from the npm registry), then the scaffold's own `npm test` and `npm start`. Slow (about a minute,
 * mostly npm install), so it lives alone in this file with generous, explicit bounds.
 */

interface Run {
  readonly code: number | string;
  readonly output: string;
}

/** A clean environment: nothing of this repository's test run leaks into the scaffold's. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith("PAVED_") &&
        !key.startsWith("VITEST") &&
        !key.startsWith("npm_") &&
        !["PORT", "HOST", "NODE_ENV", "NODE_OPTIONS", "TEST", "INIT_CWD"].includes(key),
    ),
  );
  return { ...env, NO_COLOR: "1", CI: "true", ...extra };
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), detached: true });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, output });
    });
  });
}

let work: string;
let project: string;
let tarball: string;
const timings: Record<string, number> = {};

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Date.now() - started;
  }
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/cli/init.js")))
    throw new Error("dist/ is not built: run npm run build first");
  work = await mkdtemp(join(tmpdir(), "paved-init-"));
  project = join(work, "my-server");
}, 10_000);

afterAll(async () => {
  console.log(`paved init end to end, ms: ${JSON.stringify(timings)}`);
  await rm(work, { recursive: true, force: true });
});

describe("paved init, end to end", () => {
  it("scaffolds a project that installs, passes its own tests and serves", { timeout: 420_000 }, async () => {
    const scaffold = await timed("init", () => run(process.execPath, [CLI, "init", project], work, 20_000));
    expect(scaffold.output).toContain("paved: created my-server in my-server:");
    expect(scaffold.code).toBe(0);

    const pack = await timed("pack", () =>
      run("npm", ["pack", "--json", "--pack-destination", work], ROOT, 120_000),
    );
    expect(pack.code, pack.output).toBe(0);
    const [packed] = JSON.parse(pack.output.slice(pack.output.indexOf("["))) as [{ filename: string }];
    tarball = join(work, packed.filename);
    expect(existsSync(tarball)).toBe(true);

    // The tarball replaces the registry spec; every other dependency comes from the registry.
    const install = await timed("install", () =>
      run("npm", ["install", "--no-audit", "--no-fund", tarball], project, 300_000),
    );
    expect(install.code, install.output).toBe(0);

    const test = await timed("npm test", () => run("npm", ["test"], project, 180_000));
    expect(test.code, test.output).toBe(0);
    expect(test.output).toMatch(/Tests\s+3 passed \(3\)/);

    await timed("npm start", async () => {
      const child = spawn("npm", ["start"], { cwd: project, env: cleanEnv({ PORT: "0" }), detached: true });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | string>((resolve) =>
        child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)),
      );
      const group = child.pid!;
      try {
        const printed = /bearer token for alice[^\n]*\n\s+(\S+)/;
        const deadline = Date.now() + 120_000;
        while (!printed.test(output) && Date.now() < deadline) {
          if (child.exitCode !== null) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const url = /\(development\) at (http:\/\/\S+)/.exec(output)?.[1];
        const token = printed.exec(output)?.[1];
        expect(url, output).toBeDefined();
        expect(token, output).toBeDefined();

        const client = new Client({ name: "newcomer", version: "1" });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(url!), {
            requestInit: { headers: { authorization: `Bearer ${token!}` } },
          }),
        );
        expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["hello"]);
        const result = await client.callTool({ name: "hello", arguments: { name: "Ada" } });
        expect(result.content).toEqual([{ type: "text", text: "Hello, Ada! (asked by Alice Developer)" }]);
        await client.close();
      } finally {
        process.kill(-group, "SIGTERM");
        const killer = setTimeout(() => process.kill(-group, "SIGKILL"), 15_000);
        await exited;
        clearTimeout(killer);
      }
      expect(output).toContain("shutting down");
    });
  });
});
