import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, PavedError, type ConfigIssue } from "../../../src/errors.js";
import { loadConfig, type LoadConfigOptions } from "../../../src/config/load.js";

/** A fresh directory under the OS temp dir; `cleanup()` removes it. */
export async function tempDir(): Promise<{
  readonly dir: string;
  file(name: string, content: unknown): Promise<string>;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "paved-config-test-"));
  return {
    dir,
    /** Writes `content` (JSON-encoded unless it is a string) to `name` in the directory; returns the absolute path. */
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `{ server: { sessions: { maxTotal: value } } }` from `"server.sessions.maxTotal"`. */
export function nested(key: string, value: unknown): Record<string, unknown> {
  return key.split(".").reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value) as Record<
    string,
    unknown
  >;
}

/** Deep merge of plain objects (`over` wins; lists and scalars replace), for a test's file content. */
export function merged(base: unknown, over: unknown): unknown {
  const plain = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!plain(base) || !plain(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = merged(out[key], value);
  return out;
}

/** A tenant and a client GUID that the schema accepts. */
export const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const CLIENT_ID = "00000000-0000-0000-0000-000000000001";
export const ISSUER = "https://auth.contoso.com";

/**
 * What an optional section needs once it is present (`azureAd`: `tenantId` and `clientId`; `oidc`:
 * `issuer`), as file content and as variables, so a test of one of its keys sets only that key wrong.
 */
export interface Siblings {
  readonly file: Record<string, unknown>;
  readonly env: Readonly<Record<string, string>>;
}

export const AZURE_AD_REQUIRED: Siblings = {
  file: { azureAd: { tenantId: TENANT_ID, clientId: CLIENT_ID } },
  env: { PAVED_AZUREAD__TENANTID: TENANT_ID, PAVED_AZUREAD__CLIENTID: CLIENT_ID },
};

export const OIDC_REQUIRED: Siblings = {
  file: { oidc: { issuer: ISSUER } },
  env: { PAVED_OIDC__ISSUER: ISSUER },
};

/** The siblings the section of `key` requires, if it is an optional section that requires any. */
export function requiredSiblings(key: string): Siblings | undefined {
  if (key.startsWith("azureAd.")) return AZURE_AD_REQUIRED;
  if (key.startsWith("oidc.")) return OIDC_REQUIRED;
  return undefined;
}

/** The value at a dotted key. */
export function at(config: unknown, key: string): unknown {
  return key
    .split(".")
    .reduce<unknown>((node, segment) => (node as Record<string, unknown> | undefined)?.[segment], config);
}

/** Loads and expects a {@link ConfigError}; returns it. */
export async function configError(options: LoadConfigOptions): Promise<ConfigError> {
  const error = await loadConfig(options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

/** Loads and expects a {@link PavedError} with `ERR_CONFIG_FILE`; returns it. */
export async function fileError(options: LoadConfigOptions): Promise<PavedError> {
  const error = await loadConfig(options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PavedError) || error.code !== "ERR_CONFIG_FILE") {
    throw new Error(`expected an ERR_CONFIG_FILE PavedError, got ${String(error)}`);
  }
  return error;
}

/** The exact `ConfigError.message` for these issues, written out (not via `ConfigError.format`). */
export function messageOf(issues: readonly ConfigIssue[]): string {
  return [
    "Invalid Paved configuration:",
    ...issues.map(
      (issue) =>
        `  - ${issue.key} (from ${issue.source}${issue.origin === undefined ? "" : ` ${issue.origin}`}): ${issue.expected}`,
    ),
  ].join("\n");
}

/** What `JSON.parse` says about `text` on this Node version. */
export function jsonParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
}
