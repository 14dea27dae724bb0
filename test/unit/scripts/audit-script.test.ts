/**
 * `node scripts/audit.mjs` end to end: the real npm CLI audits a small fixture project (one
 * production dependency, `ms`, installed and locked like npm does it, tracked by git) against a
 * registry on loopback that either serves one synthetic advisory for `ms` or has no audit endpoint
 * (405, like the mirror this project's CI uses). The exit code and the printed verdict are what CI
 * relies on. The fixture keeps the test independent of this repository's own dependency state,
 * which `npm run audit` checks in CI.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const ADVISORY = "https://example.test/advisories/PAVED-TEST-0002";
const scratch = mkdtempSync(join(tmpdir(), "paved-audit-"));
const project = join(scratch, "project");
const untracked = join(scratch, "untracked");

/** A project as `npm install ms@2.1.3` leaves it: manifest, lockfile, node_modules; the lockfile in git. */
function createProject(project: string, options: { git: boolean }): void {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const ms = lock.packages["node_modules/ms"];
  mkdirSync(join(project, "node_modules", "ms"), { recursive: true });
  const manifest = { name: "audit-fixture", version: "1.0.0", dependencies: { ms: `^${ms.version}` } };
  writeFileSync(join(project, "package.json"), JSON.stringify(manifest));
  writeFileSync(
    join(project, "package-lock.json"),
    JSON.stringify({
      name: manifest.name,
      version: manifest.version,
      lockfileVersion: 3,
      requires: true,
      packages: {
        "": manifest,
        "node_modules/ms": { version: ms.version, integrity: ms.integrity, license: "MIT" },
      },
    }),
  );
  writeFileSync(
    join(project, "node_modules", "ms", "package.json"),
    JSON.stringify({ name: "ms", version: ms.version }),
  );
  if (!options.git) return;
  execFileSync("git", ["init", "--quiet"], { cwd: project });
  execFileSync("git", ["add", "package-lock.json"], { cwd: project });
}

/** A registry that knows only `ms`; every other packument is 404, which npm audit tolerates. */
function advisoryRegistry(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "POST" && req.url === "/-/npm/v1/security/advisories/bulk") {
        res.end(
          JSON.stringify({
            ms: [
              {
                id: 9000002,
                url: ADVISORY,
                title: "Synthetic advisory for the audit script test",
                severity: "moderate",
                vulnerable_versions: "<=99.0.0",
                cwe: [],
                cvss: { score: 5.3, vectorString: null },
              },
            ],
          }),
        );
      } else if (req.method === "GET" && req.url === "/ms") {
        const version = (v: string) => ({
          name: "ms",
          version: v,
          dist: { tarball: `http://127.0.0.1/ms-${v}.tgz` },
        });
        res.end(
          JSON.stringify({
            name: "ms",
            "dist-tags": { latest: "2.1.3" },
            versions: { "2.1.3": version("2.1.3") },
          }),
        );
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
  });
}

/** A mirror that serves packages but refuses the audit endpoint, as this project's CI mirror does. */
function mirrorWithoutAudit(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.statusCode = req.method === "POST" ? 405 : 404;
      res.setHeader("allow", "GET,HEAD");
      res.end();
    });
  });
}

const servers: Record<"advisory" | "mirror", Server> = {
  advisory: advisoryRegistry(),
  mirror: mirrorWithoutAudit(),
};

beforeAll(async () => {
  createProject(project, { git: true });
  createProject(untracked, { git: false });
  for (const server of Object.values(servers)) {
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  }
});

afterAll(async () => {
  for (const server of Object.values(servers)) await new Promise((done) => server.close(done));
  rmSync(scratch, { recursive: true, force: true });
});

function runAudit(
  registry: Server,
  exceptions: object = { advisories: [], installScripts: [] },
  folder = project,
) {
  const path = join(scratch, `exceptions-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(exceptions));
  const args = ["scripts/audit.mjs", "--project", folder, "--exceptions", path];
  const { port } = registry.address() as AddressInfo;
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      npm_config_registry: `http://127.0.0.1:${port}/`,
      npm_config_cache: join(scratch, "npm-cache"),
      NO_COLOR: "1",
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
    child.on("close", (code) => done({ code, stdout, stderr })),
  );
}

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

// Each case runs the real npm three times (config, ls, audit); on a loaded machine that takes a while.
describe("scripts/audit.mjs", { timeout: 120_000 }, () => {
  it("fails on an advisory nobody explained, naming it", async () => {
    const result = await runAudit(servers.advisory, { advisories: [], installScripts: [] });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("audit: FAILED");
    expect(result.stderr).toContain(
      `moderate ms <=99.0.0 "Synthetic advisory for the audit script test" ${ADVISORY}`,
    );
    expect(result.stderr).toContain("no entry in audit-exceptions.json explains it");
  });

  it("passes when audit-exceptions.json explains the advisory", async () => {
    const reason = "test: the advisory is synthetic";
    const result = await runAudit(servers.advisory, {
      advisories: [{ advisory: ADVISORY, package: "ms", reason, expires: inDays(30) }],
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`explained until ${inDays(30)}`);
    expect(result.stdout).toContain(reason);
    expect(result.stdout).toContain("audit: ok");
  });

  it("says loudly that the audit could not run when the registry has no audit endpoint, and passes on the offline checks", async () => {
    const result = await runAudit(servers.mirror);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /!! AUDIT COULD NOT RUN: 405 Method Not Allowed - POST http:\/\/127\.0\.0\.1:\d+\//,
    );
    expect(result.stdout).toContain("production dependency tree: 1 package (package-lock.json)");
    expect(result.stdout).toContain("audit: offline checks ok; advisories NOT checked");
  });

  it("still fails the offline checks when the audit could not run", async () => {
    const result = await runAudit(servers.mirror, { advisories: [{ advisory: ADVISORY }] });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("AUDIT COULD NOT RUN");
    expect(result.stderr).toContain('advisories[0]: "package" must be a non-empty string');
  });

  it("fails when package-lock.json is not committed", async () => {
    const result = await runAudit(servers.mirror, undefined, untracked);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("package-lock.json is not committed (git ls-files does not list it)");
  });
});
