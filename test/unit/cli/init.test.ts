import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { init, packageNameFor, scaffoldFiles, templateValues } from "../../../src/cli/init.js";

const own = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

let dir: string;
let lines: string[];
const out = { log: (line: string) => void lines.push(line) };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "paved-init-unit-"));
  lines = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function listAll(root: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) found.push(...(await listAll(root, path)));
    else found.push(path);
  }
  return found.sort();
}

describe("paved init", () => {
  it("writes the project, named after its directory, with Paved's own version ranges", async () => {
    const target = join(dir, "My Weather Server");
    expect(await init([target], out, dir)).toBe(0);
    expect(await listAll(target)).toEqual(
      [
        ".gitignore",
        "README.md",
        "package.json",
        "paved.config.json",
        "src/server.ts",
        "src/tools/hello.ts",
        "test/hello.test.ts",
        "tsconfig.build.json",
        "tsconfig.json",
      ].sort(),
    );
    const pkg = JSON.parse(readFileSync(join(target, "package.json"), "utf8")) as Record<string, never>;
    expect(pkg).toMatchObject({
      name: "my-weather-server",
      type: "module",
      private: true,
      scripts: { start: "npm run build --silent && paved dev", test: "tsc -p tsconfig.json && vitest run" },
      dependencies: { "paved-mcp": `^${own.version}`, zod: own.dependencies["zod"] },
      devDependencies: {
        typescript: own.devDependencies["typescript"],
        vitest: own.devDependencies["vitest"],
        "@types/node": own.devDependencies["@types/node"],
        "@modelcontextprotocol/client": expect.any(String),
      },
    });
    expect(readFileSync(join(target, ".gitignore"), "utf8")).toContain(".paved/");
    expect(readFileSync(join(target, "src/server.ts"), "utf8")).toContain('name: "my-weather-server"');
    expect(readFileSync(join(target, "README.md"), "utf8")).toContain("npm install && npm start");
    expect(JSON.parse(readFileSync(join(target, "paved.config.json"), "utf8"))).toBeTypeOf("object");
    expect(lines).toContain('  cd "My Weather Server"');
  });

  it("refuses to overwrite: lists the files that exist, exits 1, writes nothing", async () => {
    await mkdir(join(dir, "src"), { recursive: true });
    await writeFile(join(dir, "package.json"), "{}");
    await writeFile(join(dir, "src/server.ts"), "// mine");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await init([], out, dir)).toBe(1);
    const message = stderr.mock.calls.map(([chunk]) => String(chunk)).join("");
    expect(message).toContain(
      `refusing to overwrite existing files in ${dir}:\n  package.json\n  src/server.ts\n`,
    );
    expect(message).toContain("Nothing was written.");
    expect(await listAll(dir)).toEqual(["package.json", "src/server.ts"]);
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe("{}");
  });

  it("takes --name and --paved-mcp, and refuses bad usage with 2", async () => {
    expect(
      await init(["proj", "--name", "weather", "--paved-mcp", "file:../paved-mcp-1.0.0.tgz"], out, dir),
    ).toBe(0);
    const pkg = JSON.parse(readFileSync(join(dir, "proj/package.json"), "utf8")) as {
      name: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.name).toBe("weather");
    expect(pkg.dependencies["paved-mcp"]).toBe("file:../paved-mcp-1.0.0.tgz");
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await init(["a", "b"], out, dir)).toBe(2);
    expect(await init(["--force"], out, dir)).toBe(2);
    expect(existsSync(join(dir, "a"))).toBe(false);
  });

  it("derives npm-safe names", () => {
    expect(packageNameFor("/x/My Server!")).toBe("my-server");
    expect(packageNameFor("/x/.hidden")).toBe("hidden");
    expect(packageNameFor("/x/___")).toBe("mcp-server");
    expect([...scaffoldFiles(templateValues("n")).keys()]).toContain("test/hello.test.ts");
  });
});
