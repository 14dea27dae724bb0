#!/usr/bin/env node
// Runs the unit suite on the Node.js releases users run (22 and 24), from tools/node-matrix (pinned
// registry packages with their own lockfile), without touching the project's own runtime.
// `npm run test:node-matrix`; extra arguments go to vitest.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const TOOLS = join(ROOT, "tools", "node-matrix");
const VITEST = join(ROOT, "node_modules", "vitest", "vitest.mjs");
const RELEASES = ["node22", "node24"];

if (!RELEASES.every((release) => existsSync(join(TOOLS, "node_modules", release, "bin", "node")))) {
  const install = spawnSync("npm", ["ci", "--prefix", TOOLS, "--no-audit", "--no-fund"], {
    stdio: "inherit",
    timeout: 300_000,
  });
  if (install.status !== 0) process.exit(install.status ?? 1);
}

let failed = 0;
for (const release of RELEASES) {
  const node = join(TOOLS, "node_modules", release, "bin", "node");
  const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
  process.stdout.write(`\n==> unit suite on Node ${version}\n`);
  const run = spawnSync(
    node,
    [VITEST, "run", "test/unit", "--typecheck.enabled=false", ...process.argv.slice(2)],
    {
      cwd: ROOT,
      stdio: "inherit",
      timeout: 600_000,
    },
  );
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
