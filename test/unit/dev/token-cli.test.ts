import { dirname } from "node:path";
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { token } from "../../../src/cli/token.js";
import { startProvider, tempStateDir } from "./support.js";

const TENANT = "44444444-4444-4444-8444-444444444444";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `paved token …` in `cwd`, capturing standard output. */
async function run(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string[] }> {
  const stdout: string[] = [];
  const code = await token(args, { log: (line) => stdout.push(line) }, cwd);
  return { code, stdout };
}

describe("paved token", () => {
  it("prints only a JWT, signed by the persisted key, with the requested claims", async () => {
    const stateDir = await tempStateDir();
    const provider = await startProvider({ stateDir, scopes: ["Weather.Read", "Weather.Write"] });
    const cwd = dirname(stateDir);

    const user = await run(
      [
        "--user",
        "bob",
        "--scopes",
        "Weather.Read, Extra",
        "--roles",
        "Auditor",
        "--lifetime",
        "600",
        "--tenant",
        TENANT,
      ],
      cwd,
    );
    expect(user.code).toBe(0);
    expect(user.stdout).toHaveLength(1);
    expect(user.stdout[0]).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const keys = (await (
      await fetch(`${provider.url}/${TENANT}/discovery/v2.0/keys`)
    ).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(user.stdout[0]!, createLocalJWKSet(keys));
    expect(payload).toMatchObject({
      ver: "2.0",
      iss: `${provider.url}/${TENANT}/v2.0`,
      aud: provider.clientId,
      tid: TENANT,
      preferred_username: "bob@paved.test",
      scp: "Weather.Read Extra",
      roles: ["Auditor"],
    });
    expect(payload.exp! - payload.iat!).toBe(600);

    const defaults = decodeJwt((await run([], cwd)).stdout[0]!);
    expect(defaults).toMatchObject({
      preferred_username: "alice@paved.test",
      scp: "Weather.Read Weather.Write",
      tid: provider.tenantId,
    });
    expect(defaults.exp! - defaults.iat!).toBe(3600);

    const app = decodeJwt((await run(["--app-only", "--v1"], cwd)).stdout[0]!);
    expect(app).toMatchObject({
      ver: "1.0",
      idtyp: "app",
      roles: ["access_as_application"],
      aud: `api://${provider.clientId}`,
      iss: `${provider.url}/${provider.tenantId}/`,
    });
    expect(app).not.toHaveProperty("scp");
  });

  it("explains that paved dev must run first when there is no state, without creating any", async () => {
    const cwd = dirname(await tempStateDir());
    await expect(run([], cwd)).rejects.toMatchObject({
      code: "ERR_CONFIG_FILE",
      message: expect.stringContaining('start "paved dev"'),
    });
  });

  it("answers usage errors with exit code 2 and nothing on stdout", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const cwd = dirname(await tempStateDir());
    for (const args of [["--colour", "red"], ["positional"], ["--lifetime", "soon"]]) {
      const result = await run(args, cwd);
      expect(result, args.join(" ")).toEqual({ code: 2, stdout: [] });
    }
    expect(stderr).toHaveBeenCalled();
  });
});
