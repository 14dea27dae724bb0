import { readFile } from "node:fs/promises";
import type { ClientCredentialConfig } from "../config/identity-schema.js";
import { AssertionFile, type AssertionFileOptions } from "./assertion-file.js";
import { certificateFromPem, keyWithThumbprint, type CertificateCredential } from "./certificate.js";

/** How MSAL authenticates this app: exactly one of these (MSAL refuses two, OBO-10). */
export type MsalCredential =
  | {
      readonly kind: "assertion";
      readonly source: string;
      /** Runs on every acquisition, cache hits included (OBO-10): cheap by design. */
      readonly clientAssertion: () => Promise<string>;
    }
  | {
      readonly kind: "certificate";
      readonly source: string;
      readonly clientCertificate: CertificateCredential;
    }
  | { readonly kind: "secret"; readonly source: string; readonly clientSecret: string };

export interface CredentialOptions {
  /** The environment (`AZURE_FEDERATED_TOKEN_FILE`). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The Entra instance: picks the sovereign `api://AzureADTokenExchange…` audience. */
  readonly instance: string;
  /** Token file caching (tests pass a clock). */
  readonly assertionFile?: AssertionFileOptions;
  /** Loads `@azure/identity` (an optional peer dependency). Default: a dynamic import. */
  readonly loadIdentity?: () => Promise<IdentityModule>;
  /** `fetch` for Key Vault. Default: the global one. */
  readonly fetch?: typeof fetch;
  /** Told why a source was skipped for a later one (its message names keys and paths, no secrets). */
  readonly onSkipped?: (reason: string) => void;
}

/** What both `@azure/identity` credentials offer (kept local: the package is an optional peer). */
interface TokenCredential {
  getToken(scope: string): Promise<{ readonly token: string } | null>;
}

/**
 * The part of `@azure/identity` Paved uses, declared here so that Paved's types do not require the
 * package (an optional peer dependency) to be installed.
 */
export interface IdentityModule {
  readonly ManagedIdentityCredential: new (options: { clientId: string }) => TokenCredential;
  readonly DefaultAzureCredential: new () => TokenCredential;
}

/** The real package, loaded on first use. */
async function importIdentity(): Promise<IdentityModule> {
  return await import("@azure/identity");
}

/** A source that cannot be used; the next one is tried. The message names keys and paths, never secrets. */
export class CredentialUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CredentialUnavailable";
  }
}

/** The audience a managed identity token must have to be a federated client assertion (OBO-08). */
export function tokenExchangeAudience(instance: string): string {
  const host = new URL(instance).hostname.toLowerCase();
  if (host.endsWith(".us")) return "api://AzureADTokenExchangeUSGov";
  if (host.endsWith(".cn")) return "api://AzureADTokenExchangeChina";
  return "api://AzureADTokenExchange";
}

/** The Key Vault resource of a vault URL: `https://vault.azure.net` unless a sovereign vault host says otherwise. */
export function keyVaultScope(vaultUrl: string): string {
  const host = new URL(vaultUrl).hostname.toLowerCase();
  const match = /^[^.]+\.(vault\.[a-z0-9.-]+)$/.exec(host);
  return `https://${match?.[1] ?? "vault.azure.net"}/.default`;
}

const KEY_VAULT_TIMEOUT_MS = 10_000;

async function identityModule(options: CredentialOptions, key: string): Promise<IdentityModule> {
  try {
    return await (options.loadIdentity ?? importIdentity)();
  } catch (error) {
    throw new CredentialUnavailable(`${key} needs the @azure/identity package: npm install @azure/identity`, {
      cause: error,
    });
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CredentialUnavailable(
      `${what} ${path} cannot be read (${typeof code === "string" ? code : "error"})`,
    );
  }
}

function certificate(build: () => CertificateCredential, key: string): CertificateCredential {
  try {
    return build();
  } catch (error) {
    throw new CredentialUnavailable(`${key}: ${(error as Error).message}`);
  }
}

async function keyVaultCertificate(
  entry: Extract<ClientCredentialConfig, { sourceType: "KeyVault" }>,
  key: string,
  options: CredentialOptions,
): Promise<CertificateCredential> {
  const identity = await identityModule(options, key);
  // A managed identity when one is named (deployed); DefaultAzureCredential otherwise, which is what a
  // developer machine has (az login, VS Code), the case the C# package documents KeyVault for.
  const credential: TokenCredential =
    entry.managedIdentityClientId === undefined
      ? new identity.DefaultAzureCredential()
      : new identity.ManagedIdentityCredential({ clientId: entry.managedIdentityClientId });
  let bearer: string;
  try {
    const token = await credential.getToken(keyVaultScope(entry.keyVaultUrl));
    if (token === null) throw new Error("no token");
    bearer = token.token;
  } catch (error) {
    throw new CredentialUnavailable(`${key}: no token for Key Vault (${(error as Error).name})`, {
      cause: error,
    });
  }
  const base = entry.keyVaultUrl.endsWith("/") ? entry.keyVaultUrl : `${entry.keyVaultUrl}/`;
  // The certificate's private key is its secret of the same name (Key Vault's certificate model).
  const url = `${base}secrets/${encodeURIComponent(entry.keyVaultCertificateName)}?api-version=7.4`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${bearer}`, accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(KEY_VAULT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CredentialUnavailable(`${key}: Key Vault ${base} cannot be reached`, { cause: error });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new CredentialUnavailable(
      `${key}: Key Vault answered HTTP ${response.status} for certificate ${entry.keyVaultCertificateName}`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as { value?: unknown; contentType?: unknown };
  if (body.contentType === "application/x-pkcs12") {
    throw new CredentialUnavailable(
      `${key}: certificate ${entry.keyVaultCertificateName} is stored as PKCS#12; Paved reads PEM only: create it with the content type application/x-pem-file`,
    );
  }
  if (typeof body.value !== "string")
    throw new CredentialUnavailable(`${key}: Key Vault returned no certificate content`);
  const value = body.value;
  return certificate(() => certificateFromPem(value), key);
}

/** Turns one configured source into what MSAL takes; throws {@link CredentialUnavailable} when it cannot. */
export async function prepareCredential(
  entry: ClientCredentialConfig,
  index: number,
  options: CredentialOptions,
): Promise<MsalCredential> {
  const key = `azureAd.clientCredentials[${index}] (${entry.sourceType})`;
  switch (entry.sourceType) {
    case "SignedAssertionFromManagedIdentity": {
      const identity = await identityModule(options, key);
      const credential = new identity.ManagedIdentityCredential({ clientId: entry.managedIdentityClientId });
      const scope = `${tokenExchangeAudience(options.instance)}/.default`;
      return {
        kind: "assertion",
        source: key,
        // @azure/identity caches the managed identity token: a cache hit after the first call.
        clientAssertion: async () => {
          const token = await credential.getToken(scope);
          if (token === null) throw new Error(`${key}: the managed identity returned no token`);
          return token.token;
        },
      };
    }
    case "SignedAssertionFilePath": {
      const path =
        entry.signedAssertionFileDiskPath ?? (options.env ?? process.env)["AZURE_FEDERATED_TOKEN_FILE"];
      if (path === undefined || path === "")
        throw new CredentialUnavailable(
          `${key}: no signedAssertionFileDiskPath and AZURE_FEDERATED_TOKEN_FILE is not set`,
        );
      const file = new AssertionFile(path, options.assertionFile);
      return { kind: "assertion", source: key, clientAssertion: () => file.read() };
    }
    case "KeyVault":
      return {
        kind: "certificate",
        source: key,
        clientCertificate: await keyVaultCertificate(entry, key, options),
      };
    case "Certificate": {
      if (entry.certificateDiskPath !== undefined) {
        const pem = await readText(entry.certificateDiskPath, `${key}: certificateDiskPath`);
        const keyPem =
          entry.privateKeyDiskPath === undefined
            ? undefined
            : await readText(entry.privateKeyDiskPath, `${key}: privateKeyDiskPath`);
        return {
          kind: "certificate",
          source: key,
          clientCertificate: certificate(() => certificateFromPem(pem, keyPem), key),
        };
      }
      const keyPem = await readText(entry.privateKeyDiskPath ?? "", `${key}: privateKeyDiskPath`);
      const thumbprint = entry.thumbprintSha256 ?? "";
      return {
        kind: "certificate",
        source: key,
        clientCertificate: certificate(() => keyWithThumbprint(keyPem, thumbprint), key),
      };
    }
    case "ClientSecret":
      return { kind: "secret", source: key, clientSecret: entry.clientSecret };
  }
}

/**
 * The first usable source of the list, as in the C# package: a source that cannot be prepared (no
 * token file, no package, Key Vault refuses) is skipped, and the reasons of all are reported.
 */
export async function firstUsableCredential(
  list: readonly ClientCredentialConfig[],
  options: CredentialOptions,
): Promise<MsalCredential> {
  const reasons: string[] = [];
  for (const [index, entry] of list.entries()) {
    try {
      const credential = await prepareCredential(entry, index, options);
      for (const reason of reasons) options.onSkipped?.(reason);
      return credential;
    } catch (error) {
      if (!(error instanceof CredentialUnavailable)) throw error;
      reasons.push(error.message);
    }
  }
  throw new CredentialUnavailable(
    list.length === 0
      ? "azureAd.clientCredentials is not configured"
      : `no usable client credential: ${reasons.join("; ")}`,
  );
}

/**
 * Which source would be used, judged without network (for `paved start` and `paved doctor`): the
 * first that is not certainly unusable. Managed identity and Key Vault count as usable.
 */
export function plannedCredential(
  list: readonly ClientCredentialConfig[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ClientCredentialConfig | undefined {
  return list.find(
    (entry) =>
      entry.sourceType !== "SignedAssertionFilePath" ||
      (entry.signedAssertionFileDiskPath ?? env["AZURE_FEDERATED_TOKEN_FILE"] ?? "") !== "",
  );
}
