import { PavedError } from "../errors.js";

/**
 * Throws `ERR_UNSAFE_START` when `NODE_ENV=production`. Everything exported from `paved-mcp/dev`
 * calls it first, and `paved start` refuses hosts that depend on the development provider.
 *
 * @example
 * refuseInProduction("My test fixture"); // throws under NODE_ENV=production
 */
export function refuseInProduction(
  component: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): void {
  if (env["NODE_ENV"] === "production") {
    throw new PavedError(
      "ERR_UNSAFE_START",
      `${component} is for development only and refuses to run with NODE_ENV=production`,
    );
  }
}
