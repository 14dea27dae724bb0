import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PavedError } from "../errors.js";
import { internalsOf } from "../host-internals.js";
import type { McpHost } from "../host-options.js";

/** Default entry when none is named: the build output most projects have. */
export const DEFAULT_ENTRY = "dist/server.js";

/**
 * Imports an entry module and returns its host: the default export is a host made by
 * `createMcpHost`, or a (possibly async) function that returns one.
 */
export async function loadEntry(entry: string | undefined, cwd = process.cwd()): Promise<McpHost> {
  const path = resolve(cwd, entry ?? DEFAULT_ENTRY);
  if (!existsSync(path)) {
    throw new PavedError(
      "ERR_ENTRY_INVALID",
      `The entry module ${path} does not exist${entry === undefined ? ` (name one: paved start <entry>)` : ""}`,
    );
  }
  const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  let value = module.default;
  if (typeof value === "function") value = await (value as () => unknown)();
  try {
    internalsOf(value as McpHost);
  } catch {
    throw new PavedError(
      "ERR_ENTRY_INVALID",
      `The default export of ${path} must be a host made by createMcpHost (or a function returning one)`,
    );
  }
  return value as McpHost;
}
