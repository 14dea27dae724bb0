import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");

describe("docs/testing.md", () => {
  it("shows example.test.ts verbatim, so the documented example is the one the suite runs", () => {
    const page = read("docs/testing.md");
    const shown = /## A full example[\s\S]*?```ts\n([\s\S]*?)```/.exec(page)?.[1];
    const example = read("test/unit/testing/example.test.ts").split("\n").slice(1).join("\n");
    expect(shown).toBe(example);
  });
});
