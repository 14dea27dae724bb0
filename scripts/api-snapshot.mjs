#!/usr/bin/env node
/**
 * The public-API snapshot: api/<package>.api.md describes every entry point's runtime exports and
 * type declarations (scripts/lib/api-report.mjs). test/unit/public-api.test.ts fails when the
 * built package no longer matches it, so an export never changes by accident.
 *
 *   npm run api:update                          build, then rewrite the snapshot (review the diff)
 *   node scripts/api-snapshot.mjs --check       exit 1 with a diff when the snapshot is out of date
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { newerThanBuild, renderApiReport } from "./lib/api-report.mjs";
import { lineDiff } from "./lib/line-diff.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
if (args.length !== 1 || !["--update", "--check"].includes(args[0])) {
  process.stderr.write("api-snapshot: usage: api-snapshot.mjs --update | --check\n");
  process.exit(2);
}
const name = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name;
const target = join(root, "api", `${name}.api.md`);
const shown = relative(process.cwd(), target) || target;

const stale = newerThanBuild(root);
if (stale.length > 0) {
  process.stderr.write(
    `api-snapshot: the build is older than ${stale.join(", ")}. Run \`npm run build\` first.\n`,
  );
  process.exit(2);
}
const report = await renderApiReport(root);

if (args[0] === "--update") {
  const before = existsSync(target) ? readFileSync(target, "utf8") : "";
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, report);
  const diff = lineDiff(before, report);
  process.stdout.write(
    diff ? `api-snapshot: updated ${shown}:\n${diff}\n` : `api-snapshot: ${shown} unchanged\n`,
  );
} else {
  const committed = existsSync(target) ? readFileSync(target, "utf8") : "";
  const diff = lineDiff(committed, report);
  if (diff) {
    process.stderr.write(
      `api-snapshot: the public API differs from ${shown} (- snapshot, + build):\n${diff}\n\n` +
        "If the change is intended, run `npm run api:update` and review the diff.\n",
    );
    process.exit(1);
  }
  process.stdout.write(`api-snapshot: ${shown} is up to date\n`);
}
