import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Output } from "./commands.js";
import * as templates from "./init-templates.js";

export const INIT_USAGE = `Usage: paved init [dir] [--name <name>] [--paved-mcp <spec>]

Scaffolds a new MCP server project in dir (default: the current directory): package.json,
tsconfig, src/server.ts, an example tool with its test, paved.config.json, .gitignore and a README.
Refuses to overwrite any existing file (it lists them and writes nothing).

  --name        package and server name (default: the directory's name)
  --paved-mcp   the paved-mcp dependency (default: ^<this version>; e.g. a path to a packed tarball)`;

interface PavedPackage {
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

function ownPackage(): PavedPackage {
  return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as PavedPackage;
}

/** An npm package name from a directory name: lower case, URL-safe, never empty. */
export function packageNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|[-._]+$/g, "")
    .slice(0, 100);
  return name === "" ? "mcp-server" : name;
}

/** Every file `paved init` writes, relative path → content. */
export function scaffoldFiles(values: templates.TemplateValues): ReadonlyMap<string, string> {
  return new Map([
    ["package.json", templates.packageJson(values)],
    ["tsconfig.json", templates.tsconfigJson()],
    ["tsconfig.build.json", templates.tsconfigBuildJson()],
    ["src/server.ts", templates.serverTs(values)],
    ["src/tools/hello.ts", templates.helloTs()],
    ["test/hello.test.ts", templates.helloTestTs()],
    ["paved.config.json", templates.pavedConfigJson()],
    [".gitignore", templates.gitignore()],
    ["README.md", templates.readme(values)],
  ]);
}

/** The template values for this Paved: its own version and the ranges it is built and tested with. */
export function templateValues(name: string, pavedSpec?: string): templates.TemplateValues {
  const pkg = ownPackage();
  const range = (section: Record<string, string> | undefined, dependency: string): string => {
    const value = section?.[dependency];
    if (value === undefined) throw new Error(`paved-mcp's package.json does not name ${dependency}`);
    return value;
  };
  return {
    name,
    pavedSpec: pavedSpec ?? `^${pkg.version}`,
    versions: {
      zod: range(pkg.dependencies, "zod"),
      typescript: range(pkg.devDependencies, "typescript"),
      vitest: range(pkg.devDependencies, "vitest"),
      typesNode: range(pkg.devDependencies, "@types/node"),
      mcpClient: range(pkg.peerDependencies, "@modelcontextprotocol/client"),
    },
  };
}

/**
 * `paved init [dir]`: writes a new project, or nothing at all when any of its files exists.
 * Returns the exit code: 0, 1 when it would overwrite, 2 for a usage error.
 */
export async function init(args: readonly string[], out: Output, cwd = process.cwd()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        name: { type: "string" },
        "paved-mcp": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    process.stderr.write(
      `paved init: ${error instanceof Error ? error.message : String(error)}\n\n${INIT_USAGE}\n`,
    );
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    out.log(INIT_USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`paved init: one directory at most\n\n${INIT_USAGE}\n`);
    return 2;
  }
  const dir = resolve(cwd, positionals[0] ?? ".");
  const name = values.name ?? packageNameFor(dir);
  const files = scaffoldFiles(templateValues(name, values["paved-mcp"]));
  const existing = [...files.keys()].filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0) {
    process.stderr.write(
      `paved init: refusing to overwrite existing files in ${dir}:\n${existing.map((file) => `  ${file}`).join("\n")}\nNothing was written.\n`,
    );
    return 1;
  }
  for (const [file, content] of files) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    // `wx`: a file that appeared since the check above is still never overwritten.
    await writeFile(path, content, { flag: "wx" });
  }
  const shown = relative(cwd, dir) || ".";
  out.log(`paved: created ${name} in ${shown}:`);
  for (const file of files.keys()) out.log(`  ${file}`);
  out.log("");
  out.log("Next:");
  if (shown !== ".") out.log(`  cd ${/\s/.test(shown) ? JSON.stringify(shown) : shown}`);
  out.log(
    "  npm install && npm start   # serves http://127.0.0.1:8080/mcp with a development identity provider",
  );
  out.log("  npm test                   # runs test/hello.test.ts, no network needed");
  return 0;
}
