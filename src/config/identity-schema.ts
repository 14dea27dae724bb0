import { z } from "zod";
import { isLoopbackHostname } from "../http/loopback.js";

/** Lower-case GUID: what Entra puts in `tid`, `oid`, `appid`. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = z.string().regex(GUID, { error: "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47" });

/** An https URL (http only on loopback, for tests and development): authorities, issuers, key sets. */
export const secureUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      // `new URL` reports an empty query or fragment as "": look at the text too.
      if (value.includes("?") || value.includes("#") || url.username !== "" || url.password !== "")
        return false;
      return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHostname(url.hostname));
    } catch {
      return false;
    }
  },
  { error: "an https URL without query or fragment (http is allowed only for localhost and 127.0.0.1)" },
);

/** Asymmetric JWS algorithms only: never `none`, never HMAC (a public key must not become a secret). */
export const SIGNING_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

const clockSkewSeconds = z
  .number()
  .int()
  .min(0)
  .max(300)
  .default(60)
  .describe("Leeway for `exp` and `nbf`, in seconds.");

/** An absolute file path (a mounted secret, a projected token). */
const absolutePath = z.string().refine((value) => value.startsWith("/") || /^[A-Za-z]:[\\/]/.test(value), {
  error: "an absolute file path",
});

/** A Key Vault object name: letters, digits and dashes, 1 to 127 characters. */
const keyVaultName = z
  .string()
  .regex(/^[0-9A-Za-z-]{1,127}$/, { error: "a Key Vault object name: letters, digits and dashes" });

/**
 * Where the client credential for downstream calls (on-behalf-of) comes from: the C# package's
 * `ClientCredentials` sources, field names in camelCase. Tried in order, the first usable wins.
 */
export const clientCredentialSchema = z.discriminatedUnion(
  "sourceType",
  [
    z.strictObject({
      sourceType: z.literal("SignedAssertionFromManagedIdentity"),
      managedIdentityClientId: guid.describe(
        "Client ID of the user-assigned managed identity trusted by a federated credential of this app.",
      ),
    }),
    z.strictObject({
      sourceType: z.literal("SignedAssertionFilePath"),
      signedAssertionFileDiskPath: absolutePath
        .optional()
        .describe("The projected token file. Default: the file named by AZURE_FEDERATED_TOKEN_FILE."),
    }),
    z.strictObject({
      sourceType: z.literal("KeyVault"),
      keyVaultUrl: secureUrl.describe("The vault, e.g. https://contoso.vault.azure.net/."),
      keyVaultCertificateName: keyVaultName,
      managedIdentityClientId: guid
        .optional()
        .describe(
          "Reach the vault as this user-assigned managed identity. Default: DefaultAzureCredential (az login on a developer machine).",
        ),
    }),
    z
      .strictObject({
        sourceType: z.literal("Certificate"),
        certificateDiskPath: absolutePath
          .optional()
          .describe("PEM file with the certificate (and its private key unless privateKeyDiskPath is set)."),
        privateKeyDiskPath: absolutePath.optional().describe("PEM file with the unencrypted private key."),
        thumbprintSha256: z
          .string()
          .regex(/^[0-9A-Fa-f]{64}$/, { error: "64 hex digits (the certificate's SHA-256 thumbprint)" })
          .optional()
          .describe("With privateKeyDiskPath and no certificate file: the certificate's SHA-256 thumbprint."),
      })
      .refine(
        (value) =>
          value.certificateDiskPath !== undefined ||
          (value.thumbprintSha256 !== undefined && value.privateKeyDiskPath !== undefined),
        { error: "certificateDiskPath, or thumbprintSha256 with privateKeyDiskPath" },
      ),
    z.strictObject({
      sourceType: z.literal("ClientSecret"),
      clientSecret: z.string().min(1).describe("Development only: a client secret."),
    }),
  ],
  {
    error:
      "a client credential whose sourceType is SignedAssertionFromManagedIdentity, SignedAssertionFilePath, KeyVault, Certificate or ClientSecret",
  },
);

export type ClientCredentialConfig = z.output<typeof clientCredentialSchema>;

export const azureAdSchema = z
  .strictObject({
    instance: secureUrl
      .default("https://login.microsoftonline.com/")
      .describe(
        "The Entra ID authority host: public cloud, a sovereign cloud (`https://login.microsoftonline.us/`), or the development provider.",
      )
      .meta({ example: "https://login.microsoftonline.com/" }),
    tenantId: z
      .union([guid, z.enum(["common", "organizations"])], {
        error: "a tenant GUID, or organizations or common",
      })
      .describe(
        "The tenant that owns the app registration (GUID), or `organizations` / `common` for a multi-tenant app.",
      )
      .meta({ example: "72f988bf-86f1-41af-91ab-2d7cd011db47" }),
    clientId: guid
      .describe("Application (client) ID of this MCP server's own app registration.")
      .meta({ example: "00000000-0000-0000-0000-000000000001" }),
    applicationIdUri: z
      .string()
      .min(1)
      .refine((value) => !value.endsWith("/"), { error: "an Application ID URI without a trailing slash" })
      .optional()
      .describe(
        "The app's Application ID URI; scopes are published as `<applicationIdUri>/<scope>`. Default: `api://<clientId>`. Set it to the MCP URL when you register that as the URI (Entra matches the RFC 8707 `resource` against it).",
      )
      .meta({ example: "https://mcp.contoso.com/mcp" }),
    audiences: z
      .array(z.string().min(1))
      .default([])
      .describe("Accepted `aud` values besides `clientId` and the Application ID URI."),
    allowedTenants: z
      .array(guid)
      .optional()
      .describe(
        "Multi-tenant apps: the tenants whose tokens are accepted. Without it every tenant that consented is accepted (`paved doctor` flags that).",
      ),
    tokenVersions: z
      .array(z.union([z.literal(1), z.literal(2)], { error: "1 or 2 (the access-token version)" }))
      .min(1)
      .default([2])
      .describe(
        "Access-token versions accepted (`accessTokenAcceptedVersion` in the app manifest decides what Entra issues): `[2]`, `[1]` or `[1, 2]`.",
      ),
    allowedClientApps: z
      .array(guid)
      .optional()
      .describe(
        "Client applications (`azp` / `appid`) allowed to call; others get 403. Default: any client the tenant allows.",
      ),
    clientCredentials: z
      .array(clientCredentialSchema)
      .optional()
      .describe(
        "How this app proves itself to Entra ID for on-behalf-of calls to downstream APIs (`ctx.downstream`): a list, the first usable wins. Each item has a `sourceType` (`SignedAssertionFromManagedIdentity`, `SignedAssertionFilePath`, `KeyVault`, `Certificate`, `ClientSecret`) and that source's fields (docs/downstream.md). From the environment: one JSON list in `PAVED_AZUREAD__CLIENTCREDENTIALS`.",
      )
      .meta({
        example: [
          {
            sourceType: "SignedAssertionFromManagedIdentity",
            managedIdentityClientId: "00000000-0000-0000-0000-000000000002",
          },
        ],
      }),
    clockSkewSeconds,
  })
  .describe("Microsoft Entra ID: validate Entra access tokens (v1 and v2, single- and multi-tenant).");

export const oidcSchema = z
  .strictObject({
    issuer: secureUrl
      .describe(
        "The issuer identifier, exactly as in the `iss` claim; its discovery document gives the key set.",
      )
      .meta({ example: "https://auth.contoso.com" }),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "Accepted `aud` values. Default: the MCP URL (`resourceHost` + `path`), the RFC 8707 resource indicator.",
      ),
    jwksUri: secureUrl.optional().describe("Key set URL, when the issuer has no discovery document."),
    algorithms: z
      .array(z.enum(SIGNING_ALGORITHMS))
      .min(1)
      .default(["RS256"])
      .describe("Signature algorithms accepted (asymmetric only)."),
    requireAccessTokenType: z
      .boolean()
      .default(true)
      .describe(
        "Require the RFC 9068 `typ` header `at+jwt` (or `application/at+jwt`), which keeps ID tokens out. Turn off only for issuers that do not set it.",
      ),
    scopePrefix: z
      .string()
      .default("")
      .describe(
        "Prefix that turns a token's short scope names into the names clients request (challenges, metadata).",
      ),
    clockSkewSeconds,
  })
  .describe("Any OpenID Connect issuer: validate its JWT access tokens (RFC 9068).");
