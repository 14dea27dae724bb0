import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

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
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"] },
  },
});
