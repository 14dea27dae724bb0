#!/usr/bin/env node
/**
 * Supply-chain check for the production dependencies (`npm run audit`, run by .ci/run).
 *
 *   npm run audit                                  audit + offline lockfile checks
 *   node scripts/audit.mjs --exceptions <file>     use another exceptions file
 *   node scripts/audit.mjs --project <folder>      check another project (the tests use a fixture)
 *
 * Two halves, both always run:
 *
 * 1. Offline, needing no registry: package-lock.json is committed and agrees with package.json, the
 *    installed production tree is complete (`npm ls --omit=dev --all`), every production package
 *    comes from the registry with a sha512 integrity hash, and none runs an install script unless
 *    audit-exceptions.json explains it (scripts/lib/lockfile-policy.mjs).
 * 2. `npm audit --omit=dev --json`: any moderate, high or critical advisory fails the run unless
 *    audit-exceptions.json explains it with a reason and an unexpired date
 *    (scripts/lib/audit-policy.mjs). When the registry has no audit endpoint or cannot be reached
 *    (some mirrors answer 405), the run says so loudly and that half alone does not fail: a
 *    mirror's limitation is not a vulnerability, and the offline half still decides.
 *
 * Exit codes: 0 clean (or audit unavailable and the offline half clean), 1 findings, 2 usage.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { classifyAuditOutput, decide, redactUrls, validateExceptions } from "./lib/audit-policy.mjs";
import { checkLockfile } from "./lib/lockfile-policy.mjs";

const repository = fileURLToPath(new URL("..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

const args = process.argv.slice(2);
let root = repository;
let exceptionsPath;
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === "--exceptions" && args[i + 1]) exceptionsPath = resolve(args[(i += 1)]);
  else if (args[i] === "--project" && args[i + 1]) root = resolve(args[(i += 1)]);
  else {
    process.stderr.write(
      `audit: unknown argument ${args[i]} (usage: audit.mjs [--exceptions <file>] [--project <folder>])\n`,
    );
    process.exit(2);
  }
}
exceptionsPath ??= join(root, "audit-exceptions.json");

const now = new Date();
const failures = [];
let advisoryFailures = 0;
const say = (line = "") => process.stdout.write(`${line}\n`);
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

say(`audit: production dependencies of ${root}`);

// --- exceptions file --------------------------------------------------------------------------
let exceptions;
try {
  exceptions = validateExceptions(readJson(exceptionsPath), now);
} catch (error) {
  exceptions = { problems: [String(error.message)], advisories: [], installScripts: [] };
}
for (const problem of exceptions.problems) failures.push(`${exceptionsPath}: ${problem}`);

// --- offline half ------------------------------------------------------------------------------
const tracked = spawnSync("git", ["ls-files", "--error-unmatch", "package-lock.json"], {
  cwd: root,
  encoding: "utf8",
});
if (tracked.status !== 0) {
  failures.push("package-lock.json is not committed (git ls-files does not list it)");
}

const registry = execFileSync(npm, ["config", "get", "registry"], { cwd: root, encoding: "utf8" }).trim();
const lockfile = checkLockfile(
  readJson(join(root, "package.json")),
  readJson(join(root, "package-lock.json")),
  {
    registry,
    installScripts: exceptions.installScripts,
  },
);
failures.push(...lockfile.problems.map((problem) => `lockfile: ${problem}`));
const count = lockfile.production.length;
say(`  production dependency tree: ${count} package${count === 1 ? "" : "s"} (package-lock.json)`);
for (const line of lockfile.installScriptsExplained) say(`  install script explained: ${line}`);

const installed = spawnSync(npm, ["ls", "--omit=dev", "--all", "--json"], { cwd: root, encoding: "utf8" });
if (installed.status !== 0) {
  let detail = installed.stderr.trim().split("\n")[0] ?? "";
  try {
    const problems = JSON.parse(installed.stdout).problems;
    if (Array.isArray(problems) && problems.length > 0) detail = problems.join("; ");
  } catch {
    // keep stderr's first line
  }
  failures.push(
    `npm ls --omit=dev --all: the installed production tree is not what the lockfile says: ${detail}`,
  );
}

// --- advisory half -----------------------------------------------------------------------------
const audit = spawnSync(npm, ["audit", "--omit=dev", "--json"], {
  cwd: root,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
const outcome = classifyAuditOutput(audit.stdout ?? "", audit.stderr ?? "");
if (outcome.kind === "unavailable") {
  const banner = "!".repeat(78);
  say();
  say(banner);
  say(`!! AUDIT COULD NOT RUN: ${outcome.reason}`);
  say(`!! The registry (${redactUrls(registry)}) has no usable advisory endpoint, so known`);
  say("!! vulnerabilities were NOT checked. Only the offline lockfile checks decide this run.");
  say("!! Run `npm audit --omit=dev` where the registry serves advisories before releasing.");
  say(banner);
  say();
} else if (outcome.kind === "error") {
  failures.push(`npm audit failed: ${outcome.reason}`);
} else {
  const verdict = decide(outcome.advisories, exceptions.advisories, now);
  const counts = Object.entries(outcome.counts)
    .map(([severity, count]) => `${severity} ${count}`)
    .join(", ");
  say(`  npm audit: ${outcome.advisories.length} advisories (${counts})`);
  for (const { advisory, exception } of verdict.explained) {
    say(`  explained until ${exception.expires}: ${describe(advisory)}: ${exception.reason}`);
  }
  for (const advisory of verdict.tolerated) say(`  low severity, not failing: ${describe(advisory)}`);
  for (const exception of verdict.unused) {
    say(`  note: exception for ${exception.package} ${exception.advisory} no longer matches; remove it`);
  }
  advisoryFailures = verdict.failures.length;
  failures.push(...verdict.failures.map(({ advisory, why }) => `${describe(advisory)}: ${why}`));
}

if (failures.length > 0) {
  process.stderr.write(`\naudit: FAILED\n${failures.map((line) => `  - ${line}`).join("\n")}\n`);
  if (advisoryFailures > 0) {
    process.stderr.write(
      "\nUpgrade the dependency, or explain the advisory in audit-exceptions.json " +
        '({ "advisory": "<url or id>", "package": "<name>", "reason": "...", "expires": "YYYY-MM-DD" }).\n',
    );
  }
  process.exit(1);
}
say(outcome.kind === "report" ? "audit: ok" : "audit: offline checks ok; advisories NOT checked (see above)");

function describe(advisory) {
  return `${advisory.severity} ${advisory.package} ${advisory.range} "${advisory.title}" ${advisory.url || advisory.id}`;
}
