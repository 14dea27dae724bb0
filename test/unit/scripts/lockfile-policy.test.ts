/**
 * The offline supply-chain checks of `npm run audit` (scripts/lib/lockfile-policy.mjs), on the
 * committed package.json and package-lock.json and on copies broken in one way each.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkLockfile } from "../../../scripts/lib/lockfile-policy.mjs";

interface LockEntry {
  version?: string;
  integrity?: string | undefined;
  resolved?: string;
  dev?: boolean;
  link?: boolean;
  hasInstallScript?: boolean;
}
interface Lock {
  packages: Record<string, LockEntry>;
}
interface Manifest extends Record<string, unknown> {
  dependencies: Record<string, string>;
}

const read = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../${name}`, import.meta.url), "utf8"));
const REGISTRY = "https://registry.npmjs.org/";
const options = { registry: REGISTRY, installScripts: [] };

/** The real lockfile, and a manifest that agrees with it by construction, so each rule starts clean. */
function repository() {
  const lock = read("package-lock.json") as Lock;
  const manifest = structuredClone(lock.packages[""]) as unknown as Manifest;
  return { manifest, lock, jose: () => lock.packages["node_modules/jose"]! };
}

describe("checkLockfile", () => {
  it("passes this repository's package.json and package-lock.json", () => {
    const manifest = read("package.json") as Manifest;
    expect(checkLockfile(manifest, read("package-lock.json"), options).problems).toEqual([]);
  });

  it("passes a consistent lockfile and counts only production packages", () => {
    const { manifest, lock } = repository();
    const result = checkLockfile(manifest, lock, options);
    expect(result.problems).toEqual([]);
    const productionEntries = Object.entries(lock.packages).filter(
      ([path, entry]) => path !== "" && entry.dev !== true,
    );
    expect(result.production).toHaveLength(productionEntries.length);
    expect(result.production).toContain(`jose@${lock.packages["node_modules/jose"]!.version}`);
    expect(result.production.some((name) => name.startsWith("vitest@"))).toBe(false);
  });

  it("fails when package.json changed and the lockfile was not updated", () => {
    const { manifest, lock } = repository();
    manifest.dependencies = { ...manifest.dependencies, "left-pad": "^1.3.0" };
    manifest.dependencies.jose = "^5.0.0";
    expect(checkLockfile(manifest, lock, options).problems).toEqual([
      expect.stringMatching(/^dependencies\.jose: package\.json wants \^5\.0\.0, package-lock\.json has \^6/),
      "dependencies.left-pad: package.json wants ^1.3.0, package-lock.json has nothing (run npm install and commit package-lock.json)",
    ]);
  });

  it("fails a lockfile without a packages map", () => {
    const { manifest } = repository();
    expect(checkLockfile(manifest, { lockfileVersion: 1, dependencies: {} }, options).problems).toEqual([
      "package-lock.json has no `packages` map (lockfileVersion 2 or 3 is required)",
    ]);
  });

  it.each([
    ["a git dependency", { resolved: "git+ssh://git@github.com/panva/jose.git#abc", integrity: undefined }],
    ["a plain-URL tarball", { resolved: "https://example.test/jose-6.0.0.tgz" }],
    ["a file tarball", { resolved: "file:../jose-6.0.0.tgz" }],
    ["another registry", { resolved: "https://registry.example.test/jose/-/jose-6.0.0.tgz" }],
    ["a missing integrity hash", { integrity: undefined }],
    ["a sha1 integrity hash", { integrity: "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=" }],
  ])("fails a production package from %s", (_what, change) => {
    const { manifest, lock, jose } = repository();
    lock.packages["node_modules/jose"] = { ...jose(), ...change };
    const problems = checkLockfile(manifest, lock, options).problems;
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((problem) => problem.startsWith("node_modules/jose: "))).toBe(true);
  });

  it("accepts a registry URL in `resolved`", () => {
    const { manifest, lock, jose } = repository();
    jose().resolved = `${REGISTRY}jose/-/jose-${jose().version}.tgz`;
    expect(checkLockfile(manifest, lock, options).problems).toEqual([]);
  });

  it("fails a production package that links to a local folder", () => {
    const { manifest, lock } = repository();
    lock.packages["node_modules/jose"] = { resolved: "../jose", link: true };
    expect(checkLockfile(manifest, lock, options).problems).toEqual([
      "node_modules/jose: a link to ../jose, not a registry package",
    ]);
  });

  it("fails an unexplained install script in production and passes an explained one", () => {
    const { manifest, lock, jose } = repository();
    jose().hasInstallScript = true;
    expect(checkLockfile(manifest, lock, options).problems).toEqual([
      "node_modules/jose: runs an install script and audit-exceptions.json does not explain it",
    ]);
    const explained = checkLockfile(manifest, lock, {
      registry: REGISTRY,
      installScripts: [{ package: "jose", reason: "reviewed: only prints a banner" }],
    });
    expect(explained.problems).toEqual([]);
    expect(explained.installScriptsExplained).toEqual(["jose: reviewed: only prints a banner"]);
  });

  it("ignores development packages, which never reach a production install", () => {
    const { manifest, lock } = repository();
    lock.packages["node_modules/vitest"] = {
      ...lock.packages["node_modules/vitest"]!,
      resolved: "git+ssh://git@github.com/vitest-dev/vitest.git#abc",
      hasInstallScript: true,
    };
    expect(checkLockfile(manifest, lock, options).problems).toEqual([]);
  });
});
