import { parseArgs } from "node:util";
import { CLIENT_NAMES, isClientName, type ClientName } from "./client-config.js";

/** `paved dev [entry] [--print-config <client>]`, parsed; a string is the usage error. */
export function parseDevArguments(
  args: readonly string[],
): { readonly entry: string | undefined; readonly printConfig?: ClientName } | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: { "print-config": { type: "string" } },
    });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) return `unexpected arguments: ${positionals.slice(1).join(" ")}`;
  const client = values["print-config"];
  if (client !== undefined && !isClientName(client))
    return `--print-config takes one of ${CLIENT_NAMES.join(", ")}, got "${client}"`;
  return { entry: positionals[0], ...(client !== undefined && { printConfig: client }) };
}
