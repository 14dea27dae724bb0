#!/usr/bin/env node
// `npm run test:quickstart`: runs the README's quick start the way a newcomer would, in a fresh
// clone, and fails if any of its commands fails.
//
// The README marks what to run with HTML comments around fenced bash blocks:
//
//   <!-- quickstart -->                 run the blocks up to the closing marker; exit 0 required
//   <!-- quickstart expect="text" -->   … and their output must contain the text
//   <!-- quickstart serve -->           start them in the background, wait until they print
//                                       "(development) at http…", and leave them serving until the end
//   <!-- /quickstart -->
//
// Each block runs as one `bash -euo pipefail` script in the clone's root. What the script does:
//   1. `git clone` this repository into a temporary folder; uncommitted changes (modified and
//      untracked files) are copied over unless --committed is given, so what runs is what you see;
//   2. picks a free loopback port: PORT is set, and "127.0.0.1:8080" in the commands is rewritten to it;
//   3. runs the blocks in order, each bounded (--block-timeout seconds, default 600), the whole
//      run bounded too (20 minutes); servers listen on 127.0.0.1 only (HOST=127.0.0.1);
//   4. stops what it started (SIGTERM, then SIGKILL, by process group) and removes the clone
//      (--keep keeps it).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OVERALL_MS = 20 * 60_000;
const SERVE_READY = /\(development\) at (http:\/\/\S+)/;
const DEFAULT_PORT = "127.0.0.1:8080";

const { values } = parseArgs({
  options: {
    committed: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "block-timeout": { type: "string", default: "600" },
    readme: { type: "string", default: "README.md" },
  },
});
const BLOCK_MS = Number(values["block-timeout"]) * 1000;
const deadline = Date.now() + OVERALL_MS;
const log = (line) => process.stderr.write(`quickstart: ${line}\n`);

/** The marked blocks of a README, in order: `{ mode, expect, script, line }`. */
export function extractBlocks(markdown) {
  const blocks = [];
  const region = /<!--\s*quickstart(?<attrs>[^>]*?)-->(?<body>[\s\S]*?)<!--\s*\/quickstart\s*-->/g;
  for (const match of markdown.matchAll(region)) {
    const attrs = match.groups.attrs;
    const mode = /\bserve\b/.test(attrs) ? "serve" : "run";
    const expect = /\bexpect="([^"]*)"/.exec(attrs)?.[1];
    const line = markdown.slice(0, match.index).split("\n").length;
    const fences = [...match.groups.body.matchAll(/```(?:bash|sh|shell)\n([\s\S]*?)```/g)];
    if (fences.length === 0) throw new Error(`README.md:${line}: a quickstart region holds no bash block`);
    blocks.push({ mode, expect, line, script: fences.map((fence) => fence[1]).join("\n") });
  }
  return blocks;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Children still running: stopped on the way out whatever happens. */
const running = new Set();

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    kill("SIGTERM");
  });
}

function start(script, cwd, env) {
  const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  const collect = (chunk) => {
    output += chunk.toString();
    process.stderr.write(chunk);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  return { child, output: () => output };
}

async function runBlock(block, cwd, env) {
  const { child, output } = start(block.script, cwd, env);
  const limit = Math.min(BLOCK_MS, deadline - Date.now());
  if (block.mode === "serve") {
    const until = Date.now() + limit;
    while (!SERVE_READY.test(output()) && Date.now() < until) {
      if (child.exitCode !== null)
        throw new Error(`README.md:${block.line}: the server exited (${child.exitCode})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!SERVE_READY.test(output()))
      throw new Error(`README.md:${block.line}: nothing served within ${limit} ms`);
    log(`README.md:${block.line}: serving at ${SERVE_READY.exec(output())[1]}`);
    return;
  }
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      log(`README.md:${block.line}: still running after ${limit} ms: stopping it`);
      void stop(child);
    }, limit);
    child.once("exit", (exitCode, signal) => {
      clearTimeout(timer);
      resolve(exitCode ?? signal);
    });
  });
  if (!output().endsWith("\n")) process.stderr.write("\n");
  if (code !== 0) throw new Error(`README.md:${block.line}: exited with ${code}`);
  if (block.expect !== undefined && !output().includes(block.expect))
    throw new Error(`README.md:${block.line}: the output does not contain ${JSON.stringify(block.expect)}`);
}

/** Copies modified and untracked files (and removes deleted ones), so the clone matches the work tree. */
function overlay(clone) {
  const git = (...args) => execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8" });
  const list = (...args) =>
    git("ls-files", "-z", ...args)
      .split("\0")
      .filter(Boolean);
  const deleted = new Set(list("-d"));
  let copied = 0;
  for (const file of new Set([...list("-m"), ...list("-o", "--exclude-standard")])) {
    if (deleted.has(file) || file.split("/").includes("node_modules")) continue;
    const source = join(ROOT, file);
    if (!existsSync(source) || lstatSync(source).isSymbolicLink()) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(source, join(clone, file));
    copied++;
  }
  for (const file of deleted) rmSync(join(clone, file), { force: true });
  if (copied + deleted.size > 0) log(`copied ${copied} uncommitted files, removed ${deleted.size}`);
}

async function main() {
  const base = mkdtempSync(join(tmpdir(), "paved-quickstart-"));
  const clone = join(base, "paved");
  let failed = false;
  try {
    execFileSync("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone], {
      stdio: "inherit",
      timeout: 120_000,
    });
    if (!values.committed) overlay(clone);
    const blocks = extractBlocks(readFileSync(join(clone, values.readme), "utf8"));
    if (blocks.length === 0) throw new Error("README.md marks no quickstart blocks");
    const port = await freePort();
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PAVED_"))),
      PORT: String(port),
      HOST: "127.0.0.1",
      NO_COLOR: "1",
    };
    log(`${blocks.length} blocks from ${values.readme}, in ${clone}, port ${port}`);
    for (const block of blocks) {
      log(
        `README.md:${block.line}: ${block.mode}${block.expect === undefined ? "" : ` (expect ${block.expect})`}`,
      );
      await runBlock(
        { ...block, script: block.script.replaceAll(DEFAULT_PORT, `127.0.0.1:${port}`) },
        clone,
        env,
      );
    }
    log(`passed: ${blocks.length} blocks`);
  } catch (error) {
    failed = true;
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await Promise.all([...running].map(stop));
    if (values.keep) log(`kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
