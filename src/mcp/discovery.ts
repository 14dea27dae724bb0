import { readdir } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PavedError } from "../errors.js";
import { toolsOf } from "./class-tools.js";
import type { ToolDefinition } from "./definitions.js";

const MODULE_EXTENSIONS = new Set([".js", ".mjs"]);

function isToolDefinition(value: unknown): value is ToolDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "tool" &&
    Object.isFrozen(value)
  );
}

/**
 * Loads every tool the modules in `folder` export (the `WithToolsFromAssembly` of Paved): exported
 * `defineTool()` values, and exported classes with `@tool` methods (constructed with no arguments).
 * Files are read in name order; `*.test.*` and `*.d.*` files are skipped.
 *
 * @example
 * const host = createMcpHost({ ..., tools: await toolsFrom(new URL("./tools", import.meta.url)) });
 */
export async function toolsFrom(folder: string | URL): Promise<ToolDefinition[]> {
  const path = folder instanceof URL ? folder.pathname : resolve(folder);
  let files: string[];
  try {
    files = (await readdir(path, { recursive: true })).sort();
  } catch (cause) {
    throw new PavedError("ERR_TOOL_DISCOVERY", `toolsFrom: cannot read the folder ${path}`, { cause });
  }
  const tools: ToolDefinition[] = [];
  for (const file of files) {
    if (!MODULE_EXTENSIONS.has(extname(file)) || /\.(test|spec|d)\.[cm]?js$/.test(file)) continue;
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(join(path, file)).href)) as Record<string, unknown>;
    } catch (cause) {
      throw new PavedError(
        "ERR_TOOL_DISCOVERY",
        `toolsFrom: cannot load ${file}: ${(cause as Error).message}`,
        { cause },
      );
    }
    for (const value of Object.values(exports)) {
      if (isToolDefinition(value)) tools.push(value);
      else if (typeof value === "function") {
        const fromClass = toolsOf(value);
        if (fromClass.length > 0) tools.push(...fromClass);
      }
    }
  }
  return tools;
}
