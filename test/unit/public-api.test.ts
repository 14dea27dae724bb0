/**
 * The public API never changes by accident: the built package (every `exports` entry point, its
 * runtime exports and its shipped declarations) must match the committed api/paved-mcp.api.md.
 * Needs dist/ from the current sources: `npm test` builds first.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { entryPoints, newerThanBuild, renderApiReport } from "../../scripts/lib/api-report.mjs";
import { lineDiff } from "../../scripts/lib/line-diff.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "paved-api-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Building the checker over the package's declarations (zod, the MCP SDK, @types/node) takes a
// few seconds on an idle machine; this is a hang guard, not a performance limit.
const SLOW = { timeout: 180_000 };

describe("public API snapshot", () => {
  it("covers every entry point in package.json exports", () => {
    expect(entryPoints(root).map((entry) => entry.name)).toEqual([
      "paved-mcp",
      "paved-mcp/dev",
      "paved-mcp/node",
      "paved-mcp/testing",
    ]);
  });

  it("matches api/paved-mcp.api.md", SLOW, async () => {
    const stale = newerThanBuild(root);
    expect(stale, "dist/ is older than these sources: run `npm run build` (npm test does)").toEqual([]);
    const committed = readFileSync(join(root, "api", "paved-mcp.api.md"), "utf8");
    const diff = lineDiff(committed, await renderApiReport(root));
    if (diff !== "") {
      expect.fail(
        `The public API differs from api/paved-mcp.api.md (- snapshot, + build):\n${diff}\n\n` +
          "If the change is intended, run `npm run api:update` and review the diff.",
      );
    }
  });
});

describe("renderApiReport", () => {
  /** A two-entry package in a fresh folder (so each version is imported anew). */
  function fixture(version: { indexTypes: string; indexJs: string; extraEntry?: boolean }): string {
    const folder = mkdtempSync(join(scratch, "pkg-"));
    mkdirSync(join(folder, "dist", "extra"), { recursive: true });
    const exports: Record<string, object> = {
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    };
    if (version.extraEntry)
      exports["./extra"] = { types: "./dist/extra/index.d.ts", default: "./dist/extra/index.js" };
    writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "fixture", type: "module", exports }));
    writeFileSync(join(folder, "dist", "index.d.ts"), version.indexTypes);
    writeFileSync(join(folder, "dist", "index.js"), version.indexJs);
    writeFileSync(join(folder, "dist", "extra", "index.d.ts"), "export declare const EXTRA = 1;\n");
    writeFileSync(join(folder, "dist", "extra", "index.js"), "export const EXTRA = 1;\n");
    return folder;
  }

  const BASE = {
    indexTypes: [
      "interface Internal { readonly limit: number; }",
      "/** Docs are not part of the surface. */",
      "export interface Options { readonly name: string; readonly internal?: Internal; }",
      "export declare function start(options: Options): Promise<void>;",
      'export declare const VERSION = "1";',
      // As tsc emits it: without this, every top-level declaration of a .d.ts module is exported.
      "export {};",
      "",
    ].join("\n"),
    indexJs:
      'export async function start() {}\nexport const VERSION = "1";\nexport const helper = () => 1;\n',
  };

  it(
    "prints declarations without comments, runtime exports with typeof, and reachable internal types",
    SLOW,
    async () => {
      const report = await renderApiReport(fixture(BASE));
      expect(report).toContain("## fixture\n");
      expect(report).toContain("```text\nVERSION: string\nhelper: function\nstart: function\n```");
      expect(report).toContain("function start(options: Options): Promise<void>;");
      expect(report).toContain(
        "interface Options {\n  readonly name: string;\n  readonly internal?: Internal;\n}",
      );
      expect(report).toContain("// dist/index.d.ts\ninterface Internal {\n  readonly limit: number;\n}");
      expect(report).not.toContain("Docs are not part");
    },
  );

  it(
    "reports a changed signature, a changed internal type, a removed runtime export and a new entry point",
    SLOW,
    async () => {
      const before = await renderApiReport(fixture(BASE));
      const after = await renderApiReport(
        fixture({
          indexTypes: BASE.indexTypes
            .replace("readonly limit: number;", "readonly limit: string;")
            .replace("Promise<void>", "Promise<boolean>"),
          indexJs: BASE.indexJs.replace("export const helper = () => 1;\n", ""),
          extraEntry: true,
        }),
      );
      const diff = lineDiff(before, after);
      for (const line of [
        "- function start(options: Options): Promise<void>;",
        "+ function start(options: Options): Promise<boolean>;",
        "-   readonly limit: number;",
        "+   readonly limit: string;",
        "- helper: function",
        "+ ## fixture/extra",
        "+ const EXTRA = 1;",
      ]) {
        expect(diff.split("\n")).toContain(line);
      }
    },
  );

  it("renders the same package the same way twice", SLOW, async () => {
    const folder = fixture(BASE);
    expect(await renderApiReport(folder)).toBe(await renderApiReport(folder));
  });
});

describe("lineDiff", () => {
  it("is empty for equal texts and marks changes with context", () => {
    expect(lineDiff("a\nb\nc", "a\nb\nc")).toBe("");
    const before = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"].join("\n");
    const after = before.replace("2", "two").replace("11", "eleven");
    expect(lineDiff(before, after, 1)).toBe(
      ["  1", "- 2", "+ two", "  3", "@@", "  10", "- 11", "+ eleven", "  12"].join("\n"),
    );
  });
});
