import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { PavedError } from "../errors.js";
import { opaque } from "./ids.js";

/**
 * What the development identity provider keeps between runs, under its state directory (default
 * `.paved/`, which is git-ignored): the signing key (so tokens minted before a restart still
 * verify), the pre-registered confidential client, dynamically registered clients, and where the
 * provider last listened (so `paved token` can mint for it without a running provider).
 * The directory is created 0700 and every file 0600: the key and the secret are credentials,
 * even if only for development.
 */

/** File names inside the state directory. */
export const STATE_FILES = {
  key: "dev-idp-signing-key.json",
  client: "dev-idp-client.json",
  registrations: "dev-idp-registrations.json",
  provider: "dev-idp.json",
} as const;

/** The RS256 signing key as a private JWK, with its `kid` (the RFC 7638 thumbprint). */
export interface StoredSigningKey {
  readonly kid: string;
  readonly privateJwk: JWK;
}

/** The pre-registered confidential client for `client_credentials`. */
export interface StoredConfidentialClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** A client registered with RFC 7591 dynamic registration (public clients only). */
export interface StoredRegistration {
  readonly clientId: string;
  readonly clientName?: string;
  readonly redirectUris: readonly string[];
  readonly issuedAt: number;
}

/** Where a provider last listened and what it issues: enough for `paved token` to mint offline. */
export interface ProviderRecord {
  readonly port: number;
  readonly tenantId: string;
  readonly clientId: string;
  readonly applicationIdUri: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly accessTokenVersion: 1 | 2;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

function corrupt(path: string, cause?: unknown): PavedError {
  return new PavedError(
    "ERR_CONFIG_FILE",
    `The development identity provider state file ${path} is unreadable: delete it to start afresh`,
    { cause },
  );
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw corrupt(path, error);
  }
}

/** Creates `path` only if absent; a concurrent creator (say `paved token` next to `paved dev`) wins and its content is used. */
async function createOnce(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { mode: 0o600, flag: "wx" });
  try {
    // link() fails with EEXIST instead of replacing: the first writer's file is never overwritten half-read.
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temporary);
  }
}

async function replace(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, content, { mode: 0o600, flag: "wx" });
  await rename(temporary, path);
}

/** The state directory, opened (created 0700 when missing). */
export interface DevStateStore {
  readonly dir: string;
  signingKey(): Promise<StoredSigningKey>;
  confidentialClient(): Promise<StoredConfidentialClient>;
  registrations(): Promise<StoredRegistration[]>;
  saveRegistrations(registrations: readonly StoredRegistration[]): Promise<void>;
  provider(): Promise<ProviderRecord | undefined>;
  saveProvider(record: ProviderRecord): Promise<void>;
}

export async function openDevState(stateDir: string, cwd = process.cwd()): Promise<DevStateStore> {
  const dir = resolve(cwd, stateDir);
  // Mode applies only to directories this call creates: an existing directory's owner chose its mode.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = (name: keyof typeof STATE_FILES) => join(dir, STATE_FILES[name]);

  async function readOrCreate(
    name: keyof typeof STATE_FILES,
    create: () => Promise<string>,
  ): Promise<unknown> {
    const existing = await readJson(path(name));
    if (existing !== undefined) return existing;
    await createOnce(path(name), await create());
    return readJson(path(name));
  }

  return {
    dir,
    async signingKey() {
      const value = await readOrCreate("key", async () => {
        const { privateKey, publicKey } = await generateKeyPair("RS256", {
          modulusLength: 2048,
          extractable: true,
        });
        const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
        return JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" });
      });
      if (
        !isRecord(value) ||
        value["kty"] !== "RSA" ||
        typeof value["d"] !== "string" ||
        typeof value["kid"] !== "string"
      )
        throw corrupt(path("key"));
      return { kid: value["kid"], privateJwk: value };
    },
    async confidentialClient() {
      const value = await readOrCreate("client", () =>
        Promise.resolve(JSON.stringify({ clientId: randomUUID(), clientSecret: `dev~${opaque(30)}` })),
      );
      if (
        !isRecord(value) ||
        typeof value["clientId"] !== "string" ||
        typeof value["clientSecret"] !== "string"
      )
        throw corrupt(path("client"));
      return { clientId: value["clientId"], clientSecret: value["clientSecret"] };
    },
    async registrations() {
      const value = await readJson(path("registrations"));
      if (value === undefined) return [];
      if (!Array.isArray(value)) throw corrupt(path("registrations"));
      return value.filter(
        (item): item is StoredRegistration =>
          isRecord(item) &&
          typeof item["clientId"] === "string" &&
          isStringArray(item["redirectUris"]) &&
          typeof item["issuedAt"] === "number",
      );
    },
    async saveRegistrations(registrations) {
      await replace(path("registrations"), JSON.stringify(registrations, null, 2));
    },
    async provider() {
      const value = await readJson(path("provider"));
      if (value === undefined) return undefined;
      if (
        !isRecord(value) ||
        typeof value["port"] !== "number" ||
        typeof value["tenantId"] !== "string" ||
        typeof value["clientId"] !== "string" ||
        typeof value["applicationIdUri"] !== "string" ||
        !isStringArray(value["scopes"]) ||
        !isStringArray(value["roles"]) ||
        (value["accessTokenVersion"] !== 1 && value["accessTokenVersion"] !== 2)
      ) {
        throw corrupt(path("provider"));
      }
      return value as unknown as ProviderRecord;
    },
    async saveProvider(record) {
      await replace(path("provider"), JSON.stringify(record, null, 2));
    },
  };
}
