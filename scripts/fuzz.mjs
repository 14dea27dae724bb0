#!/usr/bin/env node
/**
 * The long fuzz run: every suite in test/fuzz with `FUZZ_RUNS` ×20 (each parser family ≥ 200 000
 * cases) and a random seed, printed first so that a failure can be replayed exactly:
 *
 *   npm run fuzz                                  # random seed, ×20
 *   FUZZ_SEED=123456 FUZZ_RUNS=20 npm run fuzz    # replay
 *   npm run fuzz -- test/fuzz/jwt.test.ts         # one family
 *
 * CI runs the same suites through `npm test` with the fixed default seed and `FUZZ_RUNS=1`.
 */
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const seed = process.env.FUZZ_SEED ?? String(randomInt(1, 2 ** 31 - 1));
const runs = process.env.FUZZ_RUNS ?? "20";
const targets = process.argv.slice(2);
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

console.log(`fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
const result = spawnSync(
  process.execPath,
  [vitest, "run", ...(targets.length > 0 ? targets : ["test/fuzz"])],
  {
    stdio: "inherit",
    env: { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS: runs },
  },
);
if (result.status !== 0)
  console.error(`fuzz: FAILED. Replay with: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} npm run fuzz`);
process.exit(result.status ?? 1);
