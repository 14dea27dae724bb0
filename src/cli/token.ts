import { parseArgs } from "node:util";
import { createOfflineMinter } from "../dev/offline-minter.js";
import type { Output } from "./commands.js";

export const TOKEN_USAGE = `Usage: paved token [--user alice] [--tenant <guid>] [--scopes Weather.Read,...] [--roles ...] [--app-only] [--v1] [--lifetime 3600]

Mints an access token from the development identity provider's persisted key (.paved/), for the
port it last listened on. Prints only the token. Defaults: user alice, the app's scopes, 3600 s.`;

const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

/**
 * `paved token`: a development token on standard output, nothing else, so `TOKEN=$(paved token)` works.
 * Returns the exit code: 0, or 2 for a usage error.
 */
export async function token(args: readonly string[], out: Output, cwd = process.cwd()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        user: { type: "string" },
        tenant: { type: "string" },
        scopes: { type: "string" },
        roles: { type: "string" },
        "app-only": { type: "boolean" },
        v1: { type: "boolean" },
        lifetime: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(
      `paved token: ${error instanceof Error ? error.message : String(error)}\n\n${TOKEN_USAGE}\n`,
    );
    return 2;
  }
  if (values.help === true) {
    out.log(TOKEN_USAGE);
    return 0;
  }
  const lifetime = values.lifetime === undefined ? undefined : Number(values.lifetime);
  if (lifetime !== undefined && !Number.isInteger(lifetime)) {
    process.stderr.write(`paved token: --lifetime must be a whole number of seconds\n`);
    return 2;
  }
  const minter = await createOfflineMinter(".paved", cwd);
  const scopes = list(values.scopes);
  const roles = list(values.roles);
  const minted = await minter.mintToken({
    ...(values.user !== undefined && { user: values.user }),
    ...(values.tenant !== undefined && { tenantId: values.tenant }),
    ...(scopes !== undefined && { scopes }),
    ...(roles !== undefined && { roles }),
    ...(values["app-only"] === true && { appOnly: true }),
    ...(values.v1 === true && { version: 1 as const }),
    ...(lifetime !== undefined && { lifetimeSeconds: lifetime }),
  });
  out.log(minted);
  return 0;
}
