import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const markdownIn = (folder: string): string[] =>
  readdirSync(join(ROOT, folder), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => `${folder}/${entry.name}`);

const readmesOfExamples = (): string[] =>
  readdirSync(join(ROOT, "examples"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, "examples", entry.name, "README.md")))
    .map((entry) => `examples/${entry.name}/README.md`);

const PAGES = [
  "README.md",
  "BENCHMARKS.md",
  "CHANGELOG.md",
  "test/fuzz/README.md",
  ...markdownIn("docs"),
  ...readmesOfExamples(),
];

/**
 * The relative targets of inline links and images (`[text](target "title")`, `<target>` form
 * included) and of reference definitions (`[id]: target`), without their `#anchor`. Code blocks
 * and code spans are skipped: they show syntax, not links.
 */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
  const targets = [
    ...[...prose.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1] ?? ""),
    ...[...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm)].map((match) => match[1] ?? ""),
  ];
  return targets
    .map((target) => target.replace(/^<|>$/g, ""))
    .filter((target) => target !== "" && !target.startsWith("#") && !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => decodeURI(target.split("#", 1)[0] ?? ""));
}

/** Each link of `page` (a path under `root`) that names no file or folder inside `root`. */
function brokenLinks(root: string, page: string, markdown: string): string[] {
  return relativeLinks(markdown).filter((target) => {
    const file = resolve(root, dirname(page), target);
    const fromRoot = relative(root, file);
    const inside = fromRoot !== ".." && !fromRoot.startsWith(`..${sep}`) && !isAbsolute(fromRoot);
    return !inside || !existsSync(file);
  });
}

describe("relative links in the documentation", () => {
  it("finds links and images, ignores anchors, URLs and code, and reports targets that do not exist", () => {
    const page = [
      "See [pipeline](docs/pipeline.md#stages), ![logo](missing.png) and [the site](https://example.com).",
      '[gone](docs/no-such-page.md "title") [anchor](#here) [mail](mailto:a@example.com) [out](../outside.md)',
      "`[code](docs/not-a-link.md)`",
      "```md",
      "[fenced](docs/not-a-link-either.md)",
      "```",
      "[ref]: docs/also-missing.md",
    ].join("\n");
    expect(relativeLinks(page)).toEqual([
      "docs/pipeline.md",
      "missing.png",
      "docs/no-such-page.md",
      "../outside.md",
      "docs/also-missing.md",
    ]);
    expect(brokenLinks(ROOT, "README.md", page)).toEqual([
      "missing.png",
      "docs/no-such-page.md",
      "../outside.md",
      "docs/also-missing.md",
    ]);
  });

  it("covers the README, benchmarks, changelog, every docs page and every example README", () => {
    expect(PAGES).toEqual(expect.arrayContaining(["docs/security.md", "docs/downstream.md"]));
    expect(PAGES.filter((page) => !existsSync(join(ROOT, page)))).toEqual([]);
  });

  it.each(PAGES)("%s: every relative link names a file in the repository", (page) => {
    const broken = brokenLinks(ROOT, page, readFileSync(join(ROOT, page), "utf8"));
    expect(broken, `broken links in ${relative(ROOT, join(ROOT, page))}`).toEqual([]);
  });
});
