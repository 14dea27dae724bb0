import { PavedError } from "../errors.js";

/**
 * Development-only building blocks. Everything exported here refuses to run when
 * `NODE_ENV=production`, and `paved start` refuses hosts that depend on it.
 */
export function refuseInProduction(component: string, env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (env["NODE_ENV"] === "production") {
    throw new PavedError("ERR_UNSAFE_START", `${component} is for development only and refuses to run with NODE_ENV=production`);
  }
}
