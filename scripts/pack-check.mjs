#!/usr/bin/env node
/**
 * Checks the package exactly as it would be published (`npm run pack:check`, run by .ci/run after
 * the build).
 *
 *   npm run build && npm run pack:check
 *
 * 1. `npm pack` into a temporary folder (lifecycle scripts ignored);
 * 2. the tarball's own listing (`tar -tzf`) against the path policy in scripts/lib/pack-policy.mjs:
 *    only dist/, docs/ and the top-level package files; no tests, keys, .paved/, profiles, examples;
 * 3. publint on that tarball, strict (warnings fail);
 * 4. @arethetypeswrong/cli on that same tarball with the `esm-only` profile. Paved is ESM only by
 *    design (`"type": "module"`, no `require` condition), so the profile leaves out the two
 *    resolutions that cannot work for such a package: `node10` (predates `exports`) and
 *    `node16-cjs` (a `require()` of an ES module). Every other rule applies.
 *
 * Exit codes: 0 clean, 1 findings, 2 cannot run (no build).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { checkPackedPaths } from "./lib/pack-policy.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const say = (line = "") => process.stdout.write(`${line}\n`);

if (process.argv.length > 2) {
  process.stderr.write(`pack-check: unknown argument ${process.argv[2]} (usage: pack-check.mjs)\n`);
  process.exit(2);
}
if (!existsSync(join(root, "dist", "index.js"))) {
  process.stderr.write("pack-check: dist/index.js is missing. Run `npm run build` first.\n");
  process.exit(2);
}

const folder = mkdtempSync(join(tmpdir(), "paved-pack-"));
const failures = [];
try {
  const packed = JSON.parse(
    execFileSync(npm, ["pack", "--json", "--ignore-scripts", "--pack-destination", folder], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  )[0];
  const tarball = join(folder, packed.filename);
  const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
  say(
    `pack-check: ${packed.filename}: ${listing.length} files, ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked`,
  );

  const npmListed = new Set(packed.files.map((file) => `package/${file.path}`));
  const unlisted = listing.filter((path) => !path.endsWith("/") && !npmListed.has(path));
  for (const path of unlisted) failures.push(`${path}: in the tarball but not in npm's file list`);

  for (const { path, why } of checkPackedPaths(listing)) failures.push(`${path}: ${why}`);
  say(`  path policy: ${failures.length === 0 ? "ok" : "FAILED"}`);

  const bytes = readFileSync(tarball);
  const lint = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    strict: true,
    level: "suggestion",
  });
  for (const message of lint.messages) {
    const line = `publint ${message.type} ${message.code}: ${formatMessage(message, lint.pkg, { color: false })}`;
    if (message.type === "suggestion") say(`  ${line}`);
    else failures.push(line);
  }
  say(`  publint (strict): ${lint.messages.some((m) => m.type !== "suggestion") ? "FAILED" : "ok"}`);

  const attw = spawnSync(
    join(root, "node_modules", ".bin", "attw"),
    [tarball, "--profile", "esm-only", "--format", "ascii", "--no-color", "--no-emoji"],
    { cwd: root, encoding: "utf8" },
  );
  if (attw.status !== 0) {
    failures.push(`@arethetypeswrong/cli --profile esm-only:\n${attw.stdout}${attw.stderr}`);
  }
  say(`  are the types wrong (esm-only): ${attw.status === 0 ? "ok" : "FAILED"}`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}

if (failures.length > 0) {
  process.stderr.write(`\npack-check: FAILED\n${failures.map((line) => `  - ${line}`).join("\n")}\n`);
  process.stderr.write(
    "\nChange `files` in package.json, or the build, so the tarball holds only what users need.\n",
  );
  process.exit(1);
}
say("pack-check: ok");

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
