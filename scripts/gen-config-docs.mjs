#!/usr/bin/env node
/**
 * Generates docs/configuration.md from the configuration schema (src/config/schema.ts, through the
 * built dist/config/describe.js), formatted with the repository's Prettier settings.
 *
 *   npm run build && npm run docs:config            write docs/configuration.md
 *   npm run build && npm run docs:config -- --check  exit 1 when docs/configuration.md is out of date
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as prettier from "prettier";

const root = fileURLToPath(new URL("..", import.meta.url));
const target = join(root, "docs", "configuration.md");
const shownTarget = relative(process.cwd(), target) || target;
const built = join(root, "dist", "config", "describe.js");
const sources = join(root, "src", "config");

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== "--check");
if (unknown.length > 0) {
  process.stderr.write(
    `gen-config-docs: unknown argument ${unknown.join(" ")} (usage: gen-config-docs.mjs [--check])\n`,
  );
  process.exit(2);
}
const check = args.includes("--check");

if (!existsSync(built)) {
  process.stderr.write(
    `gen-config-docs: ${relative(root, built)} is missing. Run \`npm run build\` first.\n`,
  );
  process.exit(2);
}
const builtAt = statSync(built).mtimeMs;
const newer = readdirSync(sources).filter(
  (name) => name.endsWith(".ts") && statSync(join(sources, name)).mtimeMs > builtAt,
);
if (newer.length > 0) {
  process.stderr.write(
    `gen-config-docs: warning: src/config/${newer.join(", src/config/")} changed after the last build; ` +
      "run `npm run build` so the docs reflect the current schema.\n",
  );
}

/** The page exactly as it should be on disk. */
async function generate() {
  const { renderConfigDocs } = await import(pathToFileURL(built).href);
  const options = (await prettier.resolveConfig(target)) ?? {};
  return prettier.format(await renderConfigDocs(), { ...options, filepath: target });
}

/** `line N: expected … / found …` for the first line that differs, to say what is stale. */
function firstDifference(expected, actual) {
  const want = expected.split("\n");
  const have = actual.split("\n");
  for (let index = 0; index < Math.max(want.length, have.length); index++) {
    if (want[index] !== have[index]) {
      const show = (line) => (line === undefined ? "(end of file)" : JSON.stringify(line));
      return `first difference at line ${index + 1}:\n  expected ${show(want[index])}\n  found    ${show(have[index])}`;
    }
  }
  return "the files differ";
}

const expected = await generate();

if (check) {
  if (!existsSync(target)) {
    process.stderr.write(
      `${shownTarget} does not exist. Run \`npm run build && npm run docs:config\` and commit it.\n`,
    );
    process.exit(1);
  }
  const actual = readFileSync(target, "utf8");
  if (actual !== expected) {
    process.stderr.write(
      `${shownTarget} is out of date with src/config/schema.ts (${firstDifference(expected, actual)}).\n` +
        "Run `npm run build && npm run docs:config` and commit the result.\n",
    );
    process.exit(1);
  }
  process.stdout.write(`${shownTarget} is up to date.\n`);
} else {
  mkdirSync(dirname(target), { recursive: true });
  const before = existsSync(target) ? readFileSync(target, "utf8") : undefined;
  writeFileSync(target, expected);
  process.stdout.write(`${before === expected ? "Unchanged" : "Wrote"} ${shownTarget}.\n`);
}
