/**
 * What the published tarball may contain (scripts/pack-check.mjs), kept free of I/O so the unit
 * tests in test/unit/scripts/ can drive it with sample listings.
 *
 * Allowed: `dist/` (compiled code, declarations and their source maps), `docs/`, and the
 * top-level package.json, README.md, CHANGELOG.md and LICENSE. Everything else is refused, and
 * some names are refused even inside the allowed folders: tests, fixtures, benchmarks, examples,
 * development state (`.paved/`), keys and certificates, environment files, profiles, build info.
 *
 * Decisions: examples are not shipped (they live in the repository and `paved init` writes a
 * starter); source maps are shipped so stack traces map to src/ line numbers in bug reports, but the
 * sources themselves are not. `dist/testing/` is a public entry point (`paved-mcp/testing`), so the
 * folder name `testing` is allowed; `test`, `tests` and `__tests__` are not.
 */

const TOP_LEVEL_FILES = new Set(["package.json", "README.md", "CHANGELOG.md", "LICENSE"]);
const ALLOWED_FOLDERS = ["dist/", "docs/"];
const REQUIRED = ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts"];

const FORBIDDEN_SEGMENTS = new Map([
  ["test", "a test folder"],
  ["tests", "a test folder"],
  ["__tests__", "a test folder"],
  ["fixtures", "test fixtures"],
  ["bench", "benchmarks"],
  ["examples", "examples (not shipped)"],
  [".paved", "development state (.paved/ holds dev keys and tokens)"],
  ["node_modules", "installed dependencies"],
  ["coverage", "a coverage report"],
  [".git", "git metadata"],
]);

const FORBIDDEN_FILES = [
  [/\.(test|spec)\.[cm]?[jt]sx?(\.map)?$/, "a test file"],
  [/\.test-d\.[cm]?ts$/, "a type test"],
  [/\.(test|spec)\.d\.[cm]?ts(\.map)?$/, "a test declaration"],
  [/\.(pem|key|p8|p12|pfx|jwk|crt|cer|der)$/i, "a key or certificate"],
  [/(^|\/)\.env(\.|$)/, "an environment file"],
  [/(^|\/)\.npmrc$/, "an npm configuration file (may hold a token)"],
  [/\.(cpuprofile|heapsnapshot|heapprofile)$/, "a profile"],
  [/\.tsbuildinfo$/, "TypeScript build info"],
  [/\.(tgz|tar|zip)$/, "an archive"],
  [/\.log$/, "a log file"],
];

/**
 * Checks a tarball listing. Paths are as `tar -tzf` prints them, under `package/`.
 *
 * @param {string[]} paths
 * @returns {{ path: string, why: string }[]} offending paths, each with the reason
 */
export function checkPackedPaths(paths) {
  const offending = [];
  for (const raw of paths) {
    if (raw.endsWith("/")) continue; // a directory entry; its files are checked one by one
    if (!raw.startsWith("package/")) {
      offending.push({ path: raw, why: "outside the package/ folder of the tarball" });
      continue;
    }
    const path = raw.slice("package/".length);
    const segments = path.split("/");
    if (segments.includes("..") || segments.includes(".") || segments.includes("")) {
      offending.push({ path: raw, why: "a path that is not normalised" });
      continue;
    }
    const segment = segments.slice(0, -1).find((name) => FORBIDDEN_SEGMENTS.has(name));
    const file = FORBIDDEN_FILES.find(([pattern]) => pattern.test(path));
    if (segment !== undefined) offending.push({ path: raw, why: FORBIDDEN_SEGMENTS.get(segment) });
    else if (file) offending.push({ path: raw, why: file[1] });
    else if (!TOP_LEVEL_FILES.has(path) && !ALLOWED_FOLDERS.some((folder) => path.startsWith(folder))) {
      offending.push({ path: raw, why: "not in dist/, docs/ or the top-level package files" });
    }
  }
  const present = new Set(paths);
  for (const required of REQUIRED) {
    if (!present.has(`package/${required}`)) offending.push({ path: `package/${required}`, why: "missing" });
  }
  return offending;
}
