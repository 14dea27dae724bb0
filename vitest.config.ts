import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

/**
 * Load tests measure behaviour under a request rate (the rate-limit accuracy run needs ~400
 * requests/s on two cores): they run alone, after every other file has finished.
 */
const LOAD = ["test/system/rate-limit-accuracy.test.ts"];

export default defineConfig({
  resolve: {
    alias: [
      { find: /^paved-mcp$/, replacement: src("index.ts") },
      { find: /^paved-mcp\/node$/, replacement: src("node/index.ts") },
      { find: /^paved-mcp\/dev$/, replacement: src("dev/index.ts") },
      { find: /^paved-mcp\/testing$/, replacement: src("testing/index.ts") },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "tests",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...LOAD],
          typecheck: { enabled: true, include: ["test/**/*.test-d.ts"] },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "load",
          include: LOAD,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
