/**
 * The tarball path policy of `npm run pack:check` (scripts/lib/pack-policy.mjs) on sample
 * listings, and on the listing npm would publish for this repository right now.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkPackedPaths } from "../../../scripts/lib/pack-policy.mjs";

const root = fileURLToPath(new URL("../../../", import.meta.url));

const GOOD = [
  "package/LICENSE",
  "package/README.md",
  "package/CHANGELOG.md",
  "package/package.json",
  "package/dist/index.js",
  "package/dist/index.js.map",
  "package/dist/index.d.ts",
  "package/dist/index.d.ts.map",
  "package/dist/testing/index.js",
  "package/dist/testing/test-host.d.ts",
  "package/dist/cli/main.js",
  "package/docs/security.md",
];

describe("checkPackedPaths", () => {
  it("accepts dist/ (with source maps and the public testing entry point), docs/ and the top-level files", () => {
    expect(checkPackedPaths(GOOD)).toEqual([]);
  });

  it("ignores directory entries", () => {
    expect(checkPackedPaths([...GOOD, "package/dist/", "package/docs/"])).toEqual([]);
  });

  it.each([
    ["package/test/x.test.js", "a test folder"],
    ["package/dist/auth/jwt.test.js", "a test file"],
    ["package/dist/auth/jwt.spec.mjs", "a test file"],
    ["package/dist/types/define-tool.test-d.ts", "a type test"],
    ["package/dist/__tests__/a.js", "a test folder"],
    ["package/dist/fixtures/token-issuer.js", "test fixtures"],
    ["package/.paved/keys.json", "development state (.paved/ holds dev keys and tokens)"],
    ["package/dist/.paved/state.json", "development state (.paved/ holds dev keys and tokens)"],
    ["package/dist/dev/signing.pem", "a key or certificate"],
    ["package/dist/server.key", "a key or certificate"],
    ["package/.env", "an environment file"],
    ["package/dist/.env.production", "an environment file"],
    ["package/.npmrc", "an npm configuration file (may hold a token)"],
    ["package/dist/CPU.20261127.cpuprofile", "a profile"],
    ["package/dist/tsconfig.build.tsbuildinfo", "TypeScript build info"],
    ["package/bench/rate-limit.mjs", "benchmarks"],
    ["package/examples/weather/server.ts", "examples (not shipped)"],
    ["package/dist/node_modules/x/index.js", "installed dependencies"],
    ["package/paved-mcp-0.1.0.tgz", "an archive"],
    ["package/src/index.ts", "not in dist/, docs/ or the top-level package files"],
    ["package/tsconfig.json", "not in dist/, docs/ or the top-level package files"],
    ["package/dist/../../etc/passwd", "a path that is not normalised"],
    ["other/dist/index.js", "outside the package/ folder of the tarball"],
  ])("refuses %s as %s", (path, why) => {
    expect(checkPackedPaths([...GOOD, path])).toEqual([{ path, why }]);
  });

  it("lists every offending path, not just the first", () => {
    const offending = checkPackedPaths([...GOOD, "package/test/x.test.js", "package/.paved/keys.json"]);
    expect(offending.map((entry) => entry.path)).toEqual([
      "package/test/x.test.js",
      "package/.paved/keys.json",
    ]);
  });

  it("requires the entry point, its types, the manifest, the readme and the licence", () => {
    expect(checkPackedPaths(["package/docs/index.md"])).toEqual(
      ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts"].map((name) => ({
        path: `package/${name}`,
        why: "missing",
      })),
    );
  });

  // Needs dist/ (npm test builds first); without it the required entry point is reported missing.
  it("accepts what npm would publish from this repository", { timeout: 60_000 }, () => {
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: root,
        encoding: "utf8",
      }),
    ) as [{ files: { path: string }[] }];
    const listing = packed.files.map((file) => `package/${file.path}`);
    expect(listing).toContain("package/dist/index.js");
    expect(checkPackedPaths(listing)).toEqual([]);
  });
});
