import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ASSERTION_FILE_MAX_AGE_MS, AssertionFile } from "../../../src/downstream/assertion-file.js";

let dir: string;
let path: string;
let now: number;
const clock = (): number => now;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "paved-fic-"));
  path = join(dir, "token");
  now = 1_000_000;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Rewrites the file and keeps its mtime, as a write within the same clock tick would. */
async function rewriteKeepingMtime(content: string): Promise<void> {
  const fixed = new Date(1_700_000_000_000);
  await writeFile(path, content);
  await utimes(path, fixed, fixed);
}

describe("AssertionFile (workload identity token file)", () => {
  it("re-reads the file once its content is five minutes old, as azure-identity does (OBO-09)", async () => {
    await rewriteKeepingMtime("v1\n");
    const file = new AssertionFile(path, { now: clock });
    expect(await file.read()).toBe("v1");
    await rewriteKeepingMtime("v2");
    now += ASSERTION_FILE_MAX_AGE_MS - 1;
    expect(await file.read()).toBe("v1");
    now += 1;
    expect(await file.read()).toBe("v2");
  });

  it("re-reads at once when the file changed (kubelet swaps in a new file)", async () => {
    await writeFile(path, "v1");
    await utimes(path, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    const file = new AssertionFile(path, { now: clock });
    expect(await file.read()).toBe("v1");
    await writeFile(path, "v2");
    await utimes(path, new Date(1_700_000_100_000), new Date(1_700_000_100_000));
    expect(await file.read()).toBe("v2");
  });

  it("refuses an empty file and a missing one, naming the file but not its content", async () => {
    await writeFile(path, "  \n");
    const file = new AssertionFile(path, { now: clock });
    await expect(file.read()).rejects.toThrow(`the token file ${path} is empty`);
    await expect(new AssertionFile(join(dir, "missing")).read()).rejects.toThrow(
      `the token file ${join(dir, "missing")} cannot be read (ENOENT)`,
    );
  });
});
