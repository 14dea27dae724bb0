import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeConfig } from "../../../src/config/describe.js";
import { isLoadedConfig, loadConfig, parseConfig } from "../../../src/config/load.js";
import { SIGNING_ALGORITHMS, secureUrl } from "../../../src/config/identity-schema.js";
import type { PavedConfigInput } from "../../../src/config/schema.js";
import { ConfigError, PavedError } from "../../../src/errors.js";
import {
  AZURE_AD_REQUIRED,
  CLIENT_ID,
  ISSUER,
  OIDC_REQUIRED,
  TENANT_ID,
  at,
  configError,
  fileError,
  jsonParseMessage,
  merged,
  nested,
  requiredSiblings,
  tempDir,
} from "./support.js";

// ---------------------------------------------------------------------------------------------------
// The key table: every key of the schema, valid and invalid, from the file and from the environment.
// ---------------------------------------------------------------------------------------------------

const NOT_NUMBER = "Invalid input: expected number, received string";
const NOT_INT = "Invalid input: expected int, received number";
const NOT_BOOLEAN = "Invalid input: expected boolean, received string";
const NUMBER_NOT_BOOLEAN = "Invalid input: expected boolean, received number";
const NUMBER_NOT_STRING = "Invalid input: expected string, received number";
const NOT_ARRAY = "Invalid input: expected array, received string";
const NUMBER_NOT_ARRAY = "Invalid input: expected array, received number";
const EMPTY_LIST = "Too small: expected array to have >=1 items";
const EMPTY_STRING = "Too small: expected string to have >=1 characters";
/** What zod says when no alternative of a union (`1 | 2`, GUID | `common` | `organizations`) fits a non-string. */
const NOT_TENANT = "a tenant GUID, or organizations or common";
const NOT_VERSION = "1 or 2 (the access-token version)";
const tooSmall = (min: number) => `Too small: expected number to be >=${min}`;
const tooBig = (max: number) => `Too big: expected number to be <=${max}`;
const RESOURCE_HOST =
  "an https URL without query or fragment (http is allowed only for localhost and 127.0.0.1)";
/** `secureUrl` (azureAd.instance, oidc.issuer, oidc.jwksUri) says the same as `server.resourceHost`. */
const SECURE_URL = RESOURCE_HOST;
const GUID = "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP_ID_URI_SLASH = "an Application ID URI without a trailing slash";
const ALGORITHM =
  'Invalid option: expected one of "RS256"|"RS384"|"RS512"|"PS256"|"PS384"|"PS512"|"ES256"|"ES384"|"ES512"|"EdDSA"';
const OTHER_TENANT = "0b6b4a4c-8c4e-4f33-9a5c-1d2e3f405162";
const OTHER_CLIENT = "11111111-2222-3333-4444-555555555555";
const PATH_CHARS = "a path starting with / (letters, digits, . _ ~ - /)";
const PATH_SLASH = "a path without a trailing slash";
const PATH_WELL_KNOWN = "a path outside /.well-known";
const HOST = "a host name without port (e.g. api.contoso.com, 127.0.0.1, [::1]) or * for any host";
const ORIGIN = "an origin: scheme://host[:port] with no path (e.g. https://app.contoso.com)";
const WHOLE_SECONDS = "whole seconds: a multiple of 1000";
const REDIS_URL = "a redis:// or rediss:// URL with a host (e.g. rediss://cache.contoso.com:6380)";
const KEY_PREFIX = "at most 64 letters, digits, colons, dots, dashes or underscores";
const FAILURE_POLICY = 'Invalid option: expected one of "fail-open"|"fail-closed"';
const AUDIT_LOG = "log, stdout, stderr, off, or an absolute file path";
const REPLICA_URL = "an http(s) origin with no path, query or trailing slash (e.g. http://10.0.0.12:8080)";
const STATE_KEY = "base64 of at least 32 random bytes (e.g. from openssl rand -base64 32)";
/** Keys for `server.stateKeys`: 32 bytes base64, 48 bytes base64, the first again in base64url; too short. */
const KEY_A = Buffer.alloc(32, 0xfb).toString("base64");
const KEY_B = Buffer.alloc(48, 7).toString("base64");
const KEY_A_URL = Buffer.alloc(32, 0xfb).toString("base64url");
const SHORT_KEY = Buffer.alloc(31, 1).toString("base64");
const CREDENTIAL_SOURCE =
  "a client credential whose sourceType is SignedAssertionFromManagedIdentity, SignedAssertionFilePath, KeyVault, Certificate or ClientSecret";
const MIXED_DEFAULT =
  "either <resource>/.default or explicit scopes of that resource, not both (Entra refuses the mix)";
const MI_CREDENTIAL = {
  sourceType: "SignedAssertionFromManagedIdentity",
  managedIdentityClientId: OTHER_CLIENT,
};
const GRAPH_API = {
  baseUrl: "https://graph.microsoft.com/v1.0/",
  scopes: ["https://graph.microsoft.com/User.Read"],
  timeoutMs: 30_000,
};
const LOG_LEVEL = 'Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"';

/** A value the key accepts. From the environment `value` is the variable's text and `parsed` what it becomes. */
type Good =
  | { readonly from: "file"; readonly value: unknown }
  | { readonly from: "env"; readonly value: string; readonly parsed: unknown };

/**
 * A value the key rejects, with the exact `expected` text; `issueKey` when the issue names an item
 * (`….allowedHosts.1`); `variable` when it comes from another variable than the key's own (the
 * section's JSON, e.g. `PAVED_OIDC`), whose text `value` then is.
 */
interface Bad {
  readonly from: "file" | "env";
  readonly value: unknown;
  readonly expected: string;
  readonly issueKey?: string;
  readonly variable?: string;
}

interface KeyRow {
  readonly key: string;
  readonly env: string;
  readonly good: readonly Good[];
  readonly bad: readonly Bad[];
}

function integerKey(key: string, env: string, min: number, max: number): KeyRow {
  return {
    key,
    env,
    good: [
      { from: "file", value: min },
      { from: "file", value: max },
      { from: "env", value: String(max), parsed: max },
      { from: "env", value: ` ${min} `, parsed: min },
    ],
    bad: [
      { from: "file", value: min - 1, expected: tooSmall(min) },
      { from: "file", value: max + 1, expected: tooBig(max) },
      { from: "file", value: min + 0.5, expected: NOT_INT },
      { from: "file", value: String(max), expected: NOT_NUMBER },
      { from: "env", value: `${max}ms`, expected: NOT_NUMBER },
      { from: "env", value: String(max + 1), expected: tooBig(max) },
      { from: "env", value: String(min - 1), expected: tooSmall(min) },
      { from: "env", value: `${min}.5`, expected: NOT_INT },
    ],
  };
}

function booleanKey(key: string, env: string): KeyRow {
  return {
    key,
    env,
    good: [
      { from: "file", value: true },
      { from: "file", value: false },
      { from: "env", value: "true", parsed: true },
      { from: "env", value: "off", parsed: false },
      { from: "env", value: "YES", parsed: true },
      { from: "env", value: "0", parsed: false },
    ],
    bad: [
      { from: "file", value: "true", expected: NOT_BOOLEAN },
      { from: "file", value: 1, expected: NUMBER_NOT_BOOLEAN },
      { from: "env", value: "maybe", expected: NOT_BOOLEAN },
      { from: "env", value: "", expected: NOT_BOOLEAN },
    ],
  };
}

/** A list of GUIDs (`allowedTenants`, `allowedClientApps`): optional, any length. */
function guidListKey(key: string, env: string): KeyRow {
  return {
    key,
    env,
    good: [
      { from: "file", value: [TENANT_ID, OTHER_TENANT] },
      { from: "file", value: [] },
      { from: "env", value: `${OTHER_CLIENT}, ${CLIENT_ID}`, parsed: [OTHER_CLIENT, CLIENT_ID] },
      { from: "env", value: JSON.stringify([TENANT_ID]), parsed: [TENANT_ID] },
    ],
    bad: [
      { from: "file", value: TENANT_ID, expected: NOT_ARRAY },
      { from: "file", value: [TENANT_ID, "contoso.com"], expected: GUID, issueKey: `${key}.1` },
      { from: "file", value: [42], expected: NUMBER_NOT_STRING, issueKey: `${key}.0` },
      { from: "env", value: `${TENANT_ID},common`, expected: GUID, issueKey: `${key}.1` },
      { from: "env", value: "{0b6b4a4c-8c4e-4f33-9a5c-1d2e3f405162}", expected: GUID, issueKey: `${key}.0` },
    ],
  };
}

const KEYS: readonly KeyRow[] = [
  {
    key: "azureAd.instance",
    env: "PAVED_AZUREAD__INSTANCE",
    good: [
      { from: "file", value: "https://login.microsoftonline.us/" },
      { from: "file", value: "http://localhost:8400/" },
      {
        from: "env",
        value: "https://login.microsoftonline.com/",
        parsed: "https://login.microsoftonline.com/",
      },
      { from: "env", value: "http://127.0.0.1:8400", parsed: "http://127.0.0.1:8400" },
    ],
    bad: [
      { from: "file", value: "http://login.microsoftonline.com/", expected: SECURE_URL },
      { from: "file", value: true, expected: "Invalid input: expected string, received boolean" },
      { from: "env", value: "https://login.microsoftonline.com/?tenant=x", expected: SECURE_URL },
      { from: "env", value: "login.microsoftonline.com", expected: SECURE_URL },
    ],
  },
  {
    key: "azureAd.tenantId",
    env: "PAVED_AZUREAD__TENANTID",
    good: [
      { from: "file", value: TENANT_ID },
      { from: "file", value: "common" },
      { from: "file", value: "organizations" },
      { from: "file", value: TENANT_ID.toUpperCase() },
      { from: "env", value: OTHER_TENANT, parsed: OTHER_TENANT },
      { from: "env", value: "organizations", parsed: "organizations" },
    ],
    bad: [
      { from: "file", value: "contoso.com", expected: GUID },
      { from: "file", value: "consumers", expected: GUID },
      { from: "file", value: 42, expected: NOT_TENANT },
      { from: "env", value: "contoso.onmicrosoft.com", expected: GUID },
      { from: "env", value: "Common", expected: GUID },
      { from: "env", value: "", expected: GUID },
    ],
  },
  {
    key: "azureAd.clientId",
    env: "PAVED_AZUREAD__CLIENTID",
    good: [
      { from: "file", value: OTHER_CLIENT },
      { from: "env", value: CLIENT_ID, parsed: CLIENT_ID },
    ],
    bad: [
      { from: "file", value: "weather-app", expected: GUID },
      { from: "file", value: 1, expected: NUMBER_NOT_STRING },
      { from: "env", value: `api://${CLIENT_ID}`, expected: GUID },
      { from: "env", value: "", expected: GUID },
    ],
  },
  {
    key: "azureAd.applicationIdUri",
    env: "PAVED_AZUREAD__APPLICATIONIDURI",
    good: [
      { from: "file", value: `api://${CLIENT_ID}` },
      { from: "file", value: "https://mcp.contoso.com/mcp" },
      { from: "env", value: "api://weather", parsed: "api://weather" },
    ],
    bad: [
      { from: "file", value: "api://weather/", expected: APP_ID_URI_SLASH },
      { from: "file", value: "", expected: EMPTY_STRING },
      { from: "file", value: 5, expected: NUMBER_NOT_STRING },
      { from: "env", value: "https://mcp.contoso.com/", expected: APP_ID_URI_SLASH },
      { from: "env", value: "", expected: EMPTY_STRING },
    ],
  },
  {
    key: "azureAd.audiences",
    env: "PAVED_AZUREAD__AUDIENCES",
    good: [
      { from: "file", value: ["api://weather", "https://mcp.contoso.com/mcp"] },
      { from: "file", value: [] },
      { from: "env", value: "api://weather,api://maps", parsed: ["api://weather", "api://maps"] },
      { from: "env", value: "", parsed: [] },
    ],
    bad: [
      { from: "file", value: "api://weather", expected: NOT_ARRAY },
      { from: "file", value: [""], expected: EMPTY_STRING, issueKey: "azureAd.audiences.0" },
      {
        from: "env",
        value: "api://weather,,api://maps",
        expected: EMPTY_STRING,
        issueKey: "azureAd.audiences.1",
      },
      { from: "env", value: "[5]", expected: NUMBER_NOT_STRING, issueKey: "azureAd.audiences.0" },
    ],
  },
  guidListKey("azureAd.allowedTenants", "PAVED_AZUREAD__ALLOWEDTENANTS"),
  {
    key: "azureAd.tokenVersions",
    env: "PAVED_AZUREAD__TOKENVERSIONS",
    good: [
      { from: "file", value: [1] },
      { from: "file", value: [2] },
      { from: "file", value: [1, 2] },
      { from: "env", value: "1,2", parsed: [1, 2] },
      { from: "env", value: " 2 ", parsed: [2] },
      { from: "env", value: "[2, 1]", parsed: [2, 1] },
    ],
    bad: [
      { from: "file", value: [], expected: EMPTY_LIST },
      { from: "file", value: 2, expected: NUMBER_NOT_ARRAY },
      { from: "file", value: [3], expected: NOT_VERSION, issueKey: "azureAd.tokenVersions.0" },
      { from: "file", value: [1, "2"], expected: NOT_VERSION, issueKey: "azureAd.tokenVersions.1" },
      { from: "env", value: "1,3", expected: NOT_VERSION, issueKey: "azureAd.tokenVersions.1" },
      { from: "env", value: "v2", expected: NOT_VERSION, issueKey: "azureAd.tokenVersions.0" },
      { from: "env", value: "", expected: EMPTY_LIST },
    ],
  },
  guidListKey("azureAd.allowedClientApps", "PAVED_AZUREAD__ALLOWEDCLIENTAPPS"),
  {
    key: "azureAd.clientCredentials",
    env: "PAVED_AZUREAD__CLIENTCREDENTIALS",
    good: [
      {
        from: "file",
        value: [
          MI_CREDENTIAL,
          { sourceType: "SignedAssertionFilePath" },
          { sourceType: "SignedAssertionFilePath", signedAssertionFileDiskPath: "/var/run/secrets/token" },
          {
            sourceType: "KeyVault",
            keyVaultUrl: "https://contoso.vault.azure.net/",
            keyVaultCertificateName: "mcp-obo",
          },
          { sourceType: "Certificate", certificateDiskPath: "/etc/paved/obo.pem" },
          {
            sourceType: "Certificate",
            privateKeyDiskPath: "/etc/paved/obo.key",
            thumbprintSha256: "A".repeat(64),
          },
          { sourceType: "ClientSecret", clientSecret: "dev-secret" },
        ],
      },
      { from: "file", value: [] },
      { from: "env", value: JSON.stringify([MI_CREDENTIAL]), parsed: [MI_CREDENTIAL] },
    ],
    bad: [
      { from: "file", value: MI_CREDENTIAL, expected: "Invalid input: expected array, received object" },
      {
        from: "file",
        value: [{ sourceType: "Password" }],
        expected: CREDENTIAL_SOURCE,
        issueKey: "azureAd.clientCredentials.0.sourceType",
      },
      {
        from: "file",
        value: [MI_CREDENTIAL, { sourceType: "Certificate" }],
        expected: "certificateDiskPath, or thumbprintSha256 with privateKeyDiskPath",
        issueKey: "azureAd.clientCredentials.1",
      },
      {
        from: "file",
        value: [{ sourceType: "SignedAssertionFilePath", signedAssertionFileDiskPath: "token" }],
        expected: "an absolute file path",
        issueKey: "azureAd.clientCredentials.0.signedAssertionFileDiskPath",
      },
      {
        from: "file",
        value: [
          { sourceType: "KeyVault", keyVaultUrl: "http://vault.contoso.com/", keyVaultCertificateName: "c" },
        ],
        expected: SECURE_URL,
        issueKey: "azureAd.clientCredentials.0.keyVaultUrl",
      },
      {
        from: "env",
        value: JSON.stringify([{ sourceType: "ClientSecret", clientSecret: "" }]),
        expected: EMPTY_STRING,
        issueKey: "azureAd.clientCredentials.0.clientSecret",
      },
      {
        from: "env",
        value: JSON.stringify([
          { sourceType: "SignedAssertionFromManagedIdentity", managedIdentityClientId: "mi" },
        ]),
        expected: GUID,
        issueKey: "azureAd.clientCredentials.0.managedIdentityClientId",
      },
      {
        from: "env",
        value: "ClientSecret",
        expected: CREDENTIAL_SOURCE,
        issueKey: "azureAd.clientCredentials.0",
      },
    ],
  },
  integerKey("azureAd.clockSkewSeconds", "PAVED_AZUREAD__CLOCKSKEWSECONDS", 0, 300),
  {
    key: "oidc.issuer",
    env: "PAVED_OIDC__ISSUER",
    good: [
      { from: "file", value: "https://auth.contoso.com" },
      { from: "file", value: `https://login.microsoftonline.com/${TENANT_ID}/v2.0` },
      { from: "env", value: "http://localhost:8400", parsed: "http://localhost:8400" },
      { from: "env", value: "http://[::1]:8400/realms/dev", parsed: "http://[::1]:8400/realms/dev" },
    ],
    bad: [
      { from: "file", value: "http://example.com", expected: SECURE_URL },
      { from: "file", value: 1, expected: NUMBER_NOT_STRING },
      { from: "env", value: "https://auth.contoso.com/?tenant=1", expected: SECURE_URL },
      { from: "env", value: "https://auth.contoso.com/#top", expected: SECURE_URL },
      { from: "env", value: "https://user:secret@auth.contoso.com", expected: SECURE_URL },
      { from: "env", value: "auth.contoso.com", expected: SECURE_URL },
    ],
  },
  {
    key: "oidc.audiences",
    env: "PAVED_OIDC__AUDIENCES",
    good: [
      { from: "file", value: ["https://mcp.contoso.com/mcp"] },
      {
        from: "env",
        value: "https://mcp.contoso.com/mcp, weather",
        parsed: ["https://mcp.contoso.com/mcp", "weather"],
      },
    ],
    bad: [
      { from: "file", value: [], expected: EMPTY_LIST },
      { from: "file", value: ["weather", ""], expected: EMPTY_STRING, issueKey: "oidc.audiences.1" },
      { from: "env", value: "", expected: EMPTY_LIST },
      { from: "env", value: "[1]", expected: NUMBER_NOT_STRING, issueKey: "oidc.audiences.0" },
    ],
  },
  {
    key: "oidc.jwksUri",
    env: "PAVED_OIDC__JWKSURI",
    good: [
      { from: "file", value: "https://auth.contoso.com/.well-known/jwks.json" },
      { from: "env", value: "http://127.0.0.1:8400/jwks", parsed: "http://127.0.0.1:8400/jwks" },
    ],
    bad: [
      { from: "file", value: "http://example.com/jwks", expected: SECURE_URL },
      { from: "file", value: "file:///etc/jwks.json", expected: SECURE_URL },
      { from: "env", value: "https://auth.contoso.com/jwks?v=2", expected: SECURE_URL },
      { from: "env", value: "/jwks", expected: SECURE_URL },
    ],
  },
  {
    key: "oidc.algorithms",
    env: "PAVED_OIDC__ALGORITHMS",
    good: [
      { from: "file", value: [...SIGNING_ALGORITHMS] },
      { from: "file", value: ["ES256", "EdDSA"] },
      { from: "env", value: "PS256, ES384", parsed: ["PS256", "ES384"] },
      { from: "env", value: '["RS512"]', parsed: ["RS512"] },
    ],
    bad: [
      { from: "file", value: ["HS256"], expected: ALGORITHM, issueKey: "oidc.algorithms.0" },
      { from: "file", value: ["RS256", "none"], expected: ALGORITHM, issueKey: "oidc.algorithms.1" },
      { from: "file", value: [], expected: EMPTY_LIST },
      { from: "file", value: "RS256", expected: NOT_ARRAY },
      { from: "env", value: "none", expected: ALGORITHM, issueKey: "oidc.algorithms.0" },
      { from: "env", value: "RS256,HS512", expected: ALGORITHM, issueKey: "oidc.algorithms.1" },
      { from: "env", value: "rs256", expected: ALGORITHM, issueKey: "oidc.algorithms.0" },
      { from: "env", value: "", expected: EMPTY_LIST },
    ],
  },
  booleanKey("oidc.requireAccessTokenType", "PAVED_OIDC__REQUIREACCESSTOKENTYPE"),
  {
    key: "oidc.scopePrefix",
    env: "PAVED_OIDC__SCOPEPREFIX",
    good: [
      { from: "file", value: "" },
      { from: "file", value: "api://weather/" },
      { from: "env", value: "https://mcp.contoso.com/", parsed: "https://mcp.contoso.com/" },
      { from: "env", value: "", parsed: "" },
    ],
    bad: [
      { from: "file", value: 5, expected: NUMBER_NOT_STRING },
      { from: "file", value: null, expected: "Invalid input: expected string, received null" },
      // Any text is a string, so the only wrong value from the environment is one in the section's JSON.
      {
        from: "env",
        variable: "PAVED_OIDC",
        value: JSON.stringify({ issuer: ISSUER, scopePrefix: 5 }),
        expected: NUMBER_NOT_STRING,
      },
    ],
  },
  integerKey("oidc.clockSkewSeconds", "PAVED_OIDC__CLOCKSKEWSECONDS", 0, 300),
  {
    key: "server.resourceHost",
    env: "PAVED_SERVER__RESOURCEHOST",
    good: [
      { from: "file", value: "https://mcp.contoso.com" },
      { from: "file", value: "https://mcp.contoso.com:8443/base" },
      { from: "env", value: "http://localhost:3000", parsed: "http://localhost:3000" },
      { from: "env", value: "http://127.0.0.1:8080", parsed: "http://127.0.0.1:8080" },
      { from: "env", value: "http://[::1]:8080", parsed: "http://[::1]:8080" },
    ],
    bad: [
      { from: "file", value: "http://mcp.contoso.com", expected: RESOURCE_HOST },
      { from: "file", value: 443, expected: NUMBER_NOT_STRING },
      { from: "env", value: "https://mcp.contoso.com/?tenant=1", expected: RESOURCE_HOST },
      { from: "env", value: "https://mcp.contoso.com/#top", expected: RESOURCE_HOST },
      { from: "env", value: "https://user:secret@mcp.contoso.com", expected: RESOURCE_HOST },
      { from: "env", value: "mcp.contoso.com", expected: RESOURCE_HOST },
      { from: "env", value: "ftp://mcp.contoso.com", expected: RESOURCE_HOST },
    ],
  },
  {
    key: "server.path",
    env: "PAVED_SERVER__PATH",
    good: [
      { from: "file", value: "/" },
      { from: "file", value: "/api/v1/mcp" },
      { from: "env", value: "/mcp-2_x.~y", parsed: "/mcp-2_x.~y" },
    ],
    bad: [
      { from: "file", value: "mcp", expected: PATH_CHARS },
      { from: "file", value: "/mcp/", expected: PATH_SLASH },
      { from: "file", value: 1, expected: NUMBER_NOT_STRING },
      { from: "env", value: "/.well-known/mcp", expected: PATH_WELL_KNOWN },
      { from: "env", value: "/mcp?x=1", expected: PATH_CHARS },
      { from: "env", value: " /mcp", expected: PATH_CHARS },
    ],
  },
  {
    key: "server.supportedScopes",
    env: "PAVED_SERVER__SUPPORTEDSCOPES",
    good: [
      { from: "file", value: [`api://${CLIENT_ID}/Weather.Read`] },
      { from: "file", value: [`api://${CLIENT_ID}/.default`, "openid"] },
      { from: "file", value: [] },
      { from: "env", value: "weather.read, weather.write", parsed: ["weather.read", "weather.write"] },
      { from: "env", value: "", parsed: [] },
    ],
    bad: [
      { from: "file", value: "weather.read", expected: NOT_ARRAY },
      { from: "file", value: [""], expected: EMPTY_STRING, issueKey: "server.supportedScopes.0" },
      { from: "env", value: "weather.read,,x", expected: EMPTY_STRING, issueKey: "server.supportedScopes.1" },
      {
        from: "env",
        value: '["weather.read", 1]',
        expected: NUMBER_NOT_STRING,
        issueKey: "server.supportedScopes.1",
      },
    ],
  },
  booleanKey("server.stateless", "PAVED_SERVER__STATELESS"),
  {
    key: "server.allowedHosts",
    env: "PAVED_SERVER__ALLOWEDHOSTS",
    good: [
      { from: "file", value: ["mcp.contoso.com", "127.0.0.1", "[::1]"] },
      { from: "file", value: ["*"] },
      { from: "env", value: "mcp.contoso.com, localhost", parsed: ["mcp.contoso.com", "localhost"] },
      { from: "env", value: '["[::1]","*"]', parsed: ["[::1]", "*"] },
    ],
    bad: [
      { from: "file", value: "mcp.contoso.com", expected: NOT_ARRAY },
      { from: "file", value: [], expected: EMPTY_LIST },
      { from: "env", value: "", expected: EMPTY_LIST },
      { from: "env", value: "[]", expected: EMPTY_LIST },
      {
        from: "file",
        value: ["mcp.contoso.com", "mcp.contoso.com:443"],
        expected: HOST,
        issueKey: "server.allowedHosts.1",
      },
      { from: "env", value: "https://mcp.contoso.com", expected: HOST, issueKey: "server.allowedHosts.0" },
      {
        from: "env",
        value: '["ok.contoso.com", 7]',
        expected: NUMBER_NOT_STRING,
        issueKey: "server.allowedHosts.1",
      },
      { from: "env", value: '["unterminated"', expected: NOT_ARRAY },
    ],
  },
  {
    key: "server.allowedOrigins",
    env: "PAVED_SERVER__ALLOWEDORIGINS",
    good: [
      { from: "file", value: ["https://app.contoso.com", "http://localhost:5173"] },
      {
        from: "env",
        value: "https://app.contoso.com,http://[::1]:3000",
        parsed: ["https://app.contoso.com", "http://[::1]:3000"],
      },
    ],
    bad: [
      {
        from: "file",
        value: ["https://app.contoso.com/"],
        expected: ORIGIN,
        issueKey: "server.allowedOrigins.0",
      },
      { from: "file", value: "https://app.contoso.com", expected: NOT_ARRAY },
      { from: "env", value: "app.contoso.com", expected: ORIGIN, issueKey: "server.allowedOrigins.0" },
      {
        from: "env",
        value: "https://a.contoso.com,wss://b.contoso.com",
        expected: ORIGIN,
        issueKey: "server.allowedOrigins.1",
      },
    ],
  },
  integerKey("server.maxBodyBytes", "PAVED_SERVER__MAXBODYBYTES", 1024, 64 * 1024 * 1024),
  integerKey("server.maxHeaderBytes", "PAVED_SERVER__MAXHEADERBYTES", 4096, 65_536),
  integerKey("server.headersTimeoutMs", "PAVED_SERVER__HEADERSTIMEOUTMS", 1_000, 120_000),
  integerKey("server.requestTimeoutMs", "PAVED_SERVER__REQUESTTIMEOUTMS", 1_000, 600_000),
  integerKey("server.keepAliveTimeoutMs", "PAVED_SERVER__KEEPALIVETIMEOUTMS", 1_000, 600_000),
  integerKey("server.requestDeadlineMs", "PAVED_SERVER__REQUESTDEADLINEMS", 1_000, 3_600_000),
  integerKey("server.shutdownGraceMs", "PAVED_SERVER__SHUTDOWNGRACEMS", 0, 600_000),
  booleanKey("server.trustProxy", "PAVED_SERVER__TRUSTPROXY"),
  integerKey("server.maxRequestsPerMinutePerUser", "PAVED_SERVER__MAXREQUESTSPERMINUTEPERUSER", 0, 1_000_000),
  integerKey(
    "server.maxRequestsPerMinutePerTenant",
    "PAVED_SERVER__MAXREQUESTSPERMINUTEPERTENANT",
    1,
    100_000_000,
  ),
  integerKey(
    "server.maxRequestsPerMinutePerClientAddress",
    "PAVED_SERVER__MAXREQUESTSPERMINUTEPERCLIENTADDRESS",
    0,
    100_000_000,
  ),
  {
    key: "server.rateLimitWindowMs",
    env: "PAVED_SERVER__RATELIMITWINDOWMS",
    good: [
      { from: "file", value: 1_000 },
      { from: "file", value: 86_400_000 },
      { from: "env", value: "2000", parsed: 2_000 },
    ],
    bad: [
      { from: "file", value: 0, expected: tooSmall(1_000) },
      { from: "file", value: 86_401_000, expected: tooBig(86_400_000) },
      { from: "file", value: 1_500, expected: WHOLE_SECONDS },
      { from: "file", value: 2_000.5, expected: NOT_INT },
      { from: "env", value: "1500", expected: WHOLE_SECONDS },
      { from: "env", value: "2s", expected: NOT_NUMBER },
    ],
  },
  integerKey("server.sessions.idleTimeoutMs", "PAVED_SERVER__SESSIONS__IDLETIMEOUTMS", 1_000, 86_400_000),
  integerKey("server.sessions.maxPerUser", "PAVED_SERVER__SESSIONS__MAXPERUSER", 1, 10_000),
  integerKey("server.sessions.maxTotal", "PAVED_SERVER__SESSIONS__MAXTOTAL", 1, 1_000_000),
  {
    key: "server.replicaUrl",
    env: "PAVED_SERVER__REPLICAURL",
    good: [
      { from: "file", value: "http://10.0.0.12:8080" },
      { from: "file", value: "https://paved-0.paved.mcp.svc.cluster.local:8443" },
      { from: "env", value: "http://[fd00::12]:8080", parsed: "http://[fd00::12]:8080" },
      { from: "env", value: "http://10.244.1.7:8080", parsed: "http://10.244.1.7:8080" },
    ],
    bad: [
      { from: "file", value: "http://10.0.0.12:8080/mcp", expected: REPLICA_URL },
      { from: "file", value: "http://10.0.0.12:8080/", expected: REPLICA_URL },
      { from: "file", value: 8080, expected: NUMBER_NOT_STRING },
      { from: "env", value: "10.0.0.12:8080", expected: REPLICA_URL },
      { from: "env", value: "redis://10.0.0.12:6379", expected: REPLICA_URL },
      { from: "env", value: "http://user:pw@10.0.0.12:8080", expected: REPLICA_URL },
    ],
  },
  {
    key: "server.stateKeys",
    env: "PAVED_SERVER__STATEKEYS",
    good: [
      { from: "file", value: [KEY_A] },
      { from: "file", value: [KEY_B, KEY_A] },
      { from: "env", value: `${KEY_B},${KEY_A}`, parsed: [KEY_B, KEY_A] },
      { from: "env", value: JSON.stringify([KEY_A_URL]), parsed: [KEY_A_URL] },
    ],
    bad: [
      { from: "file", value: KEY_A, expected: NOT_ARRAY },
      { from: "file", value: [], expected: EMPTY_LIST },
      { from: "file", value: [KEY_A, SHORT_KEY], expected: STATE_KEY, issueKey: "server.stateKeys.1" },
      { from: "env", value: "not-a-key!", expected: STATE_KEY, issueKey: "server.stateKeys.0" },
      { from: "env", value: `${KEY_A},${SHORT_KEY}`, expected: STATE_KEY, issueKey: "server.stateKeys.1" },
    ],
  },
  {
    key: "store.redis",
    env: "PAVED_STORE__REDIS",
    good: [
      { from: "file", value: "redis://127.0.0.1:6379" },
      { from: "file", value: "rediss://:key@contoso.redis.cache.windows.net:6380" },
      {
        from: "env",
        value: "redis://user:pw@redis.internal:6379/2",
        parsed: "redis://user:pw@redis.internal:6379/2",
      },
    ],
    bad: [
      { from: "file", value: "https://cache.contoso.com", expected: REDIS_URL },
      { from: "file", value: 6379, expected: NUMBER_NOT_STRING },
      { from: "env", value: "localhost:6379", expected: REDIS_URL },
      { from: "env", value: "redis://", expected: REDIS_URL },
    ],
  },
  {
    key: "store.keyPrefix",
    env: "PAVED_STORE__KEYPREFIX",
    good: [
      { from: "file", value: "weather.prod:" },
      { from: "file", value: "" },
      { from: "env", value: "tenant_a-1:", parsed: "tenant_a-1:" },
    ],
    bad: [
      { from: "file", value: "{tag}:", expected: KEY_PREFIX },
      { from: "file", value: "x".repeat(65), expected: KEY_PREFIX },
      { from: "file", value: 1, expected: NUMBER_NOT_STRING },
      { from: "env", value: "a b", expected: KEY_PREFIX },
    ],
  },
  {
    key: "store.failurePolicy",
    env: "PAVED_STORE__FAILUREPOLICY",
    good: [
      { from: "file", value: "fail-open" },
      { from: "file", value: "fail-closed" },
      { from: "env", value: "fail-closed", parsed: "fail-closed" },
    ],
    bad: [
      { from: "file", value: "open", expected: FAILURE_POLICY },
      { from: "file", value: true, expected: FAILURE_POLICY },
      { from: "env", value: "FAIL-OPEN", expected: FAILURE_POLICY },
    ],
  },
  {
    key: "telemetry.serviceName",
    env: "PAVED_TELEMETRY__SERVICENAME",
    good: [
      { from: "file", value: "weather-api" },
      { from: "file", value: "x".repeat(128) },
      { from: "env", value: "Weather API (eu)", parsed: "Weather API (eu)" },
      { from: "env", value: "42", parsed: "42" },
    ],
    bad: [
      { from: "file", value: "", expected: "Too small: expected string to have >=1 characters" },
      { from: "file", value: 42, expected: NUMBER_NOT_STRING },
      { from: "env", value: "x".repeat(129), expected: "Too big: expected string to have <=128 characters" },
      { from: "env", value: "", expected: "Too small: expected string to have >=1 characters" },
    ],
  },
  {
    key: "telemetry.logLevel",
    env: "PAVED_TELEMETRY__LOGLEVEL",
    good: [
      ...["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((value): Good => ({
        from: "file",
        value,
      })),
      { from: "env", value: "debug", parsed: "debug" },
    ],
    bad: [
      { from: "file", value: "verbose", expected: LOG_LEVEL },
      { from: "file", value: 30, expected: LOG_LEVEL },
      { from: "env", value: "INFO", expected: LOG_LEVEL },
      { from: "env", value: "", expected: LOG_LEVEL },
    ],
  },
  {
    key: "telemetry.auditLog",
    env: "PAVED_TELEMETRY__AUDITLOG",
    good: [
      ...["log", "stdout", "stderr", "off"].map((value): Good => ({ from: "file", value })),
      { from: "file", value: "/var/log/paved/audit.jsonl" },
      { from: "env", value: "off", parsed: "off" },
      { from: "env", value: "/tmp/audit.log", parsed: "/tmp/audit.log" },
    ],
    bad: [
      { from: "file", value: "audit.log", expected: AUDIT_LOG },
      { from: "file", value: 1, expected: AUDIT_LOG },
      { from: "env", value: "LOG", expected: AUDIT_LOG },
      { from: "env", value: "./audit.log", expected: AUDIT_LOG },
      { from: "env", value: "", expected: AUDIT_LOG },
    ],
  },
  booleanKey("telemetry.captureContent", "PAVED_TELEMETRY__CAPTURECONTENT"),
  booleanKey("telemetry.prometheus", "PAVED_TELEMETRY__PROMETHEUS"),
  {
    key: "downstream",
    env: "PAVED_DOWNSTREAM",
    good: [
      { from: "file", value: { graph: GRAPH_API } },
      {
        from: "file",
        value: {
          local: { baseUrl: "http://127.0.0.1:9000/api", scopes: ["api://x/.default"], timeoutMs: 100 },
        },
      },
      { from: "file", value: {} },
      { from: "env", value: JSON.stringify({ graph: GRAPH_API }), parsed: { graph: GRAPH_API } },
    ],
    bad: [
      {
        from: "file",
        value: {
          graph: {
            ...GRAPH_API,
            scopes: ["https://graph.microsoft.com/.default", "https://graph.microsoft.com/User.Read"],
          },
        },
        expected: MIXED_DEFAULT,
        issueKey: "downstream.graph.scopes",
      },
      {
        from: "file",
        value: { graph: { ...GRAPH_API, baseUrl: "http://graph.microsoft.com/" } },
        expected: SECURE_URL,
        issueKey: "downstream.graph.baseUrl",
      },
      {
        from: "file",
        value: { graph: { ...GRAPH_API, timeoutMs: 99 } },
        expected: tooSmall(100),
        issueKey: "downstream.graph.timeoutMs",
      },
      {
        from: "file",
        value: { "9graph": GRAPH_API },
        expected: "Invalid key in record",
        issueKey: "downstream.9graph",
      },
      {
        from: "env",
        value: JSON.stringify({ graph: { ...GRAPH_API, scopes: [] } }),
        expected: EMPTY_LIST,
        issueKey: "downstream.graph.scopes",
      },
      { from: "env", value: "graph", expected: "Invalid input: expected record, received string" },
    ],
  },
];

const label = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

let tmp: Awaited<ReturnType<typeof tempDir>>;
let fileNumber = 0;
const configFile = (content: unknown): Promise<string> => tmp.file(`config-${++fileNumber}.json`, content);

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

describe("the key table", () => {
  it("covers every key of the schema, with valid and invalid values from both the file and the environment", () => {
    const schemaKeys = describeConfig().map((row) => [row.key, row.env]);
    expect(KEYS.map((row) => [row.key, row.env])).toStrictEqual(schemaKeys);
    for (const row of KEYS) {
      for (const from of ["file", "env"] as const) {
        expect(
          row.good.some((item) => item.from === from),
          `${row.key}: a valid value from ${from}`,
        ).toBe(true);
        expect(
          row.bad.some((item) => item.from === from),
          `${row.key}: an invalid value from ${from}`,
        ).toBe(true);
      }
    }
  });
});

describe.each(KEYS.map((row) => [row.key, row] as const))("%s", (_, row) => {
  const fromFile = row.good.filter((item) => item.from === "file");
  const fromEnv = row.good.flatMap((item) => (item.from === "env" ? [item] : []));
  // A key of azureAd or oidc comes with the keys its section requires, so only the key under test is wrong.
  const siblings = requiredSiblings(row.key);
  const fileWith = (value: unknown): unknown => merged(siblings?.file ?? {}, nested(row.key, value));
  const envWith = (variable: string, text: string): Record<string, string> => ({
    ...siblings?.env,
    [variable]: text,
  });

  it.each(fromFile.map((item) => [label(item.value), item] as const))(
    "accepts %s from the file",
    async (_, item) => {
      const path = await configFile(fileWith(item.value));
      const config = await loadConfig({ file: path, env: {} });
      expect(at(config, row.key)).toStrictEqual(item.value);
    },
  );

  it.each(fromEnv.map((item) => [label(item.value), item] as const))(
    `accepts %s from ${row.env}`,
    async (_, item) => {
      const config = await loadConfig({ file: false, env: envWith(row.env, item.value) });
      expect(at(config, row.key)).toStrictEqual(item.parsed);
    },
  );

  it.each(row.bad.map((item) => [label(item.value), item.from, item] as const))(
    "rejects %s from the %s",
    async (_, from, item) => {
      const key = item.issueKey ?? row.key;
      if (from === "file") {
        const path = await configFile(fileWith(item.value));
        const error = await configError({ file: path, env: {} });
        expect(error.issues).toStrictEqual([{ key, source: "file", origin: path, expected: item.expected }]);
        expect(error.message).toBe(
          `Invalid Paved configuration:\n  - ${key} (from file ${path}): ${item.expected}`,
        );
      } else {
        const variable = item.variable ?? row.env;
        const error = await configError({ file: false, env: envWith(variable, item.value as string) });
        expect(error.issues).toStrictEqual([
          { key, source: "env", origin: variable, expected: item.expected },
        ]);
        expect(error.message).toBe(
          `Invalid Paved configuration:\n  - ${key} (from env ${variable}): ${item.expected}`,
        );
      }
    },
  );
});

// ---------------------------------------------------------------------------------------------------
// The identity sections: azureAd and oidc
// ---------------------------------------------------------------------------------------------------

const BOTH = "configure one identity provider: azureAd or oidc, not both";

describe("the identity sections", () => {
  it("are absent unless a source sets them", async () => {
    const config = await loadConfig({ file: false, env: {} });
    expect("azureAd" in config).toBe(false);
    expect("oidc" in config).toBe(false);
  });

  it("fill in the defaults of azureAd once it has its required keys", async () => {
    const config = await loadConfig({ file: false, env: AZURE_AD_REQUIRED.env });
    expect(config.azureAd).toStrictEqual({
      instance: "https://login.microsoftonline.com/",
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      audiences: [],
      tokenVersions: [2],
      clockSkewSeconds: 60,
    });
    expect(config.oidc).toBeUndefined();
  });

  it("fill in the defaults of oidc once it has its issuer", async () => {
    const path = await configFile(OIDC_REQUIRED.file);
    const config = await loadConfig({ file: path, env: {} });
    expect(config.oidc).toStrictEqual({
      issuer: ISSUER,
      algorithms: ["RS256"],
      requireAccessTokenType: true,
      scopePrefix: "",
      clockSkewSeconds: 60,
    });
    expect(config.azureAd).toBeUndefined();
  });

  it("require tenantId and clientId once azureAd is present", async () => {
    const path = await configFile({ azureAd: {} });
    const error = await configError({ file: path, env: {} });
    // The source of a key nobody set is not asserted: the loader blames the defaults for it.
    expect(error.issues.map(({ key, expected }) => ({ key, expected }))).toStrictEqual([
      { key: "azureAd.tenantId", expected: NOT_TENANT },
      { key: "azureAd.clientId", expected: "Invalid input: expected string, received undefined" },
    ]);
  });

  it("require the issuer once oidc is present, whichever source creates the section", async () => {
    for (const options of [
      { file: false, env: { PAVED_OIDC__ALGORITHMS: "ES256" } },
      { file: false, env: { PAVED_OIDC: "{}" } },
      { file: false, env: {}, overrides: { oidc: {} } as unknown as PavedConfigInput },
    ] as const) {
      const error = await configError(options);
      expect(error.issues.map(({ key, expected }) => ({ key, expected }))).toStrictEqual([
        { key: "oidc.issuer", expected: "Invalid input: expected string, received undefined" },
      ]);
    }
  });

  describe("azureAd and oidc together", () => {
    it("are rejected from the file, reported at oidc", async () => {
      const path = await configFile(merged(AZURE_AD_REQUIRED.file, OIDC_REQUIRED.file));
      const error = await configError({ file: path, env: {} });
      expect(error.issues).toStrictEqual([{ key: "oidc", source: "file", origin: path, expected: BOTH }]);
      expect(error.message).toBe(`Invalid Paved configuration:\n  - oidc (from file ${path}): ${BOTH}`);
    });

    it("are rejected from the environment, one variable per key", async () => {
      const error = await configError({
        file: false,
        env: { ...AZURE_AD_REQUIRED.env, ...OIDC_REQUIRED.env },
      });
      expect(error.issues).toStrictEqual([{ key: "oidc", source: "env", expected: BOTH }]);
      expect(error.message).toBe(`Invalid Paved configuration:\n  - oidc (from env): ${BOTH}`);
    });

    it("are rejected from the environment, as whole sections, naming the oidc variable", async () => {
      const error = await configError({
        file: false,
        env: {
          PAVED_AZUREAD: JSON.stringify(AZURE_AD_REQUIRED.file["azureAd"]),
          PAVED_OIDC: JSON.stringify({ issuer: ISSUER }),
        },
      });
      expect(error.message).toBe(`Invalid Paved configuration:\n  - oidc (from env PAVED_OIDC): ${BOTH}`);
    });

    it("are rejected across sources: azureAd in the file, oidc in code", async () => {
      const path = await configFile(AZURE_AD_REQUIRED.file);
      const error = await configError({ file: path, env: {}, overrides: { oidc: { issuer: ISSUER } } });
      expect(error.issues).toStrictEqual([{ key: "oidc", source: "code", expected: BOTH }]);
      expect(error.message).toBe(`Invalid Paved configuration:\n  - oidc (from code): ${BOTH}`);
    });

    it("are rejected by parseConfig, synchronously", () => {
      expect(() =>
        parseConfig({ azureAd: { tenantId: "common", clientId: CLIENT_ID }, oidc: { issuer: ISSUER } }),
      ).toThrow(new ConfigError([{ key: "oidc", source: "code", expected: BOTH }]));
    });

    it("are reported along with a key whose format is wrong", async () => {
      const error = await configError({
        file: false,
        env: { ...AZURE_AD_REQUIRED.env, PAVED_AZUREAD__TENANTID: "contoso.com", ...OIDC_REQUIRED.env },
      });
      expect(error.message).toBe(
        [
          "Invalid Paved configuration:",
          `  - azureAd.tenantId (from env PAVED_AZUREAD__TENANTID): ${GUID}`,
          `  - oidc (from env): ${BOTH}`,
        ].join("\n"),
      );
    });

    it("are not reported while a section misses a required key (that comes first)", async () => {
      const error = await configError({
        file: false,
        env: { PAVED_AZUREAD__TENANTID: TENANT_ID, ...OIDC_REQUIRED.env },
      });
      expect(error.issues.map(({ key, expected }) => ({ key, expected }))).toStrictEqual([
        { key: "azureAd.clientId", expected: "Invalid input: expected string, received undefined" },
      ]);
    });
  });

  describe("given as a whole", () => {
    it("reads a section from its JSON variable and fills in its defaults", async () => {
      const config = await loadConfig({
        file: false,
        env: { PAVED_OIDC: JSON.stringify({ issuer: ISSUER, algorithms: ["ES256"] }) },
      });
      expect(config.oidc).toStrictEqual({
        issuer: ISSUER,
        algorithms: ["ES256"],
        requireAccessTokenType: true,
        scopePrefix: "",
        clockSkewSeconds: 60,
      });
    });

    it("lets a variable for one key refine the section's JSON", async () => {
      const config = await loadConfig({
        file: false,
        env: {
          PAVED_AZUREAD: JSON.stringify({ tenantId: "organizations", clientId: CLIENT_ID }),
          PAVED_AZUREAD__TOKENVERSIONS: "1,2",
        },
      });
      expect(config.azureAd?.tenantId).toBe("organizations");
      expect(config.azureAd?.tokenVersions).toStrictEqual([1, 2]);
    });

    it.each([
      [
        "azureAd",
        { ...(AZURE_AD_REQUIRED.file["azureAd"] as object), authority: "https://login.microsoftonline.com" },
        "azureAd.authority",
      ],
      ["oidc", { issuer: ISSUER, jwks_uri: "https://auth.contoso.com/jwks" }, "oidc.jwks_uri"],
    ])("is still strict: %s with an unknown key, from the file", async (name, section, key) => {
      const path = await configFile({ [name]: section });
      const error = await configError({ file: path, env: {} });
      expect(error.issues).toStrictEqual([
        { key, source: "file", origin: path, expected: "no such configuration key" },
      ]);
      expect(error.message).toBe(
        `Invalid Paved configuration:\n  - ${key} (from file ${path}): no such configuration key`,
      );
    });

    it.each([
      [
        "PAVED_AZUREAD",
        { tenantId: TENANT_ID, clientId: CLIENT_ID, tokenVersion: 2 },
        "azureAd.tokenVersion",
      ],
      ["PAVED_OIDC", { issuer: ISSUER, audience: "weather" }, "oidc.audience"],
    ])("is still strict: %s with an unknown key, from the environment", async (variable, section, key) => {
      const error = await configError({ file: false, env: { [variable]: JSON.stringify(section) } });
      expect(error.issues).toStrictEqual([
        { key, source: "env", origin: variable, expected: "no such configuration key" },
      ]);
      expect(error.message).toBe(
        `Invalid Paved configuration:\n  - ${key} (from env ${variable}): no such configuration key`,
      );
    });

    it("is still strict from code", () => {
      expect(() =>
        parseConfig({
          oidc: { issuer: ISSUER, typ: "at+jwt" },
        } as unknown as PavedConfigInput),
      ).toThrow("Invalid Paved configuration:\n  - oidc.typ (from code): no such configuration key");
    });

    it("rejects a variable for a key the section does not have", async () => {
      const error = await configError({
        file: false,
        env: { ...AZURE_AD_REQUIRED.env, PAVED_AZUREAD__AUTHORITY: "https://login.microsoftonline.com" },
      });
      expect(error.message).toBe(
        "Invalid Paved configuration:\n  - azureAd.authority (from env PAVED_AZUREAD__AUTHORITY): no such configuration key",
      );
    });

    it.each([
      ["null", "null"],
      ["array", "[]"],
      ["string", "tenant=common"],
    ])("rejects a section that is not an object (%s)", async (received, text) => {
      const error = await configError({ file: false, env: { PAVED_AZUREAD: text } });
      expect(error.message).toBe(
        `Invalid Paved configuration:\n  - azureAd (from env PAVED_AZUREAD): Invalid input: expected object, received ${received}`,
      );
    });
  });

  it("reads tokenVersions 1,2 from the environment as the numbers [1, 2]", async () => {
    const config = await loadConfig({
      file: false,
      env: { ...AZURE_AD_REQUIRED.env, PAVED_AZUREAD__TOKENVERSIONS: "1,2" },
    });
    expect(config.azureAd?.tokenVersions).toStrictEqual([1, 2]);
  });

  it("rejects the HMAC and none algorithms, each by its index", async () => {
    const path = await configFile(
      merged(OIDC_REQUIRED.file, { oidc: { algorithms: ["HS256", "RS256", "none"] } }),
    );
    const error = await configError({ file: path, env: {} });
    expect(error.message).toBe(
      [
        "Invalid Paved configuration:",
        `  - oidc.algorithms.0 (from file ${path}): ${ALGORITHM}`,
        `  - oidc.algorithms.2 (from file ${path}): ${ALGORITHM}`,
      ].join("\n"),
    );
  });

  it.each([TENANT_ID, "common", "organizations"])("accepts the tenant %s", (tenantId) => {
    expect(parseConfig({ azureAd: { tenantId, clientId: CLIENT_ID } }).azureAd?.tenantId).toBe(tenantId);
  });

  it.each(["contoso.com", "contoso.onmicrosoft.com", "consumers", "72f988bf86f141af91ab2d7cd011db47"])(
    "rejects the tenant %s",
    (tenantId) => {
      expect(() => parseConfig({ azureAd: { tenantId, clientId: CLIENT_ID } })).toThrow(
        new ConfigError([{ key: "azureAd.tenantId", source: "code", expected: GUID }]),
      );
    },
  );

  it("freezes the sections and their lists", () => {
    const config = parseConfig({
      azureAd: { tenantId: TENANT_ID, clientId: CLIENT_ID, allowedTenants: [TENANT_ID] },
    });
    expect(Object.isFrozen(config.azureAd)).toBe(true);
    expect(Object.isFrozen(config.azureAd?.tokenVersions)).toBe(true);
    expect(Object.isFrozen(config.azureAd?.allowedTenants)).toBe(true);
  });
});

describe("secure URLs (azureAd.instance, oidc.issuer, oidc.jwksUri)", () => {
  it.each([
    "https://auth.contoso.com",
    "https://auth.contoso.com:8443/tenant/v2.0",
    "http://localhost:8400",
    "http://127.0.0.1:8400/",
    "http://127.9.9.9",
    "http://[::1]:8400/realms/dev",
  ])("accepts %s", (url) => {
    expect(secureUrl.safeParse(url).success).toBe(true);
    expect(parseConfig({ oidc: { issuer: url, jwksUri: url } }).oidc?.jwksUri).toBe(url);
    expect(
      parseConfig({ azureAd: { instance: url, tenantId: TENANT_ID, clientId: CLIENT_ID } }).azureAd?.instance,
    ).toBe(url);
  });

  it.each([
    ["plain http off loopback", "http://example.com"],
    ["plain http to a look-alike host", "http://localhost.example.com"],
    ["a query", "https://auth.contoso.com/?p=1"],
    ["a fragment", "https://auth.contoso.com/#keys"],
    ["credentials", "https://user:secret@auth.contoso.com"],
    ["a user name alone", "https://user@auth.contoso.com"],
    ["another scheme", "ftp://auth.contoso.com"],
    ["no scheme", "auth.contoso.com"],
    ["nothing", ""],
  ])("rejects %s (%s) for each of the three keys", (_, url) => {
    expect(secureUrl.safeParse(url).success).toBe(false);
    expect(() => parseConfig({ oidc: { issuer: url } })).toThrow(
      new ConfigError([{ key: "oidc.issuer", source: "code", expected: SECURE_URL }]),
    );
    expect(() => parseConfig({ oidc: { issuer: ISSUER, jwksUri: url } })).toThrow(
      new ConfigError([{ key: "oidc.jwksUri", source: "code", expected: SECURE_URL }]),
    );
    expect(() =>
      parseConfig({ azureAd: { instance: url, tenantId: TENANT_ID, clientId: CLIENT_ID } }),
    ).toThrow(new ConfigError([{ key: "azureAd.instance", source: "code", expected: SECURE_URL }]));
  });
});

describe("server.allowedHosts", () => {
  it.each([
    [
      "the file",
      async () => configError({ file: await configFile({ server: { allowedHosts: [] } }), env: {} }),
    ],
    ["the environment", () => configError({ file: false, env: { PAVED_SERVER__ALLOWEDHOSTS: "" } })],
    ["code", () => configError({ file: false, env: {}, overrides: { server: { allowedHosts: [] } } })],
  ])("rejects an empty list from %s", async (_, load) => {
    const error = await load();
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ key: "server.allowedHosts", expected: EMPTY_LIST });
  });
});

// ---------------------------------------------------------------------------------------------------
// Sources and precedence
// ---------------------------------------------------------------------------------------------------

describe("precedence: default < file < env < code", () => {
  it("takes each key from the last source that sets it", async () => {
    const path = await configFile({
      server: {
        path: "/file",
        maxBodyBytes: 2048,
        stateless: false,
        allowedHosts: ["file.contoso.com", "b.contoso.com"],
      },
      telemetry: { logLevel: "warn", serviceName: "from-file" },
    });
    const config = await loadConfig({
      file: path,
      env: {
        PAVED_SERVER__PATH: "/env",
        PAVED_SERVER__ALLOWEDHOSTS: "env.contoso.com",
        PAVED_TELEMETRY__LOGLEVEL: "error",
      },
      overrides: { server: { path: "/code" }, telemetry: { logLevel: "debug" } },
    });
    expect(config.server.path).toBe("/code");
    expect(config.telemetry.logLevel).toBe("debug");
    expect(config.server.allowedHosts).toStrictEqual(["env.contoso.com"]);
    expect(config.server.maxBodyBytes).toBe(2048);
    expect(config.server.stateless).toBe(false);
    expect(config.telemetry.serviceName).toBe("from-file");
    expect(config.server.maxHeaderBytes).toBe(16_384);
  });

  it.each([
    ["defaults only", {}, {}, undefined, 30_000],
    ["file over default", { server: { requestTimeoutMs: 40_000 } }, {}, undefined, 40_000],
    [
      "env over file",
      { server: { requestTimeoutMs: 40_000 } },
      { PAVED_SERVER__REQUESTTIMEOUTMS: "50000" },
      undefined,
      50_000,
    ],
    [
      "code over env",
      { server: { requestTimeoutMs: 40_000 } },
      { PAVED_SERVER__REQUESTTIMEOUTMS: "50000" },
      { server: { requestTimeoutMs: 60_000 } },
      60_000,
    ],
    [
      "code over file",
      { server: { requestTimeoutMs: 40_000 } },
      {},
      { server: { requestTimeoutMs: 60_000 } },
      60_000,
    ],
  ] as const)("%s", async (_, file, env, overrides, expected) => {
    const path = await configFile(file);
    const config = await loadConfig({ file: path, env, ...(overrides === undefined ? {} : { overrides }) });
    expect(config.server.requestTimeoutMs).toBe(expected);
  });

  it("replaces lists as a whole instead of concatenating them", async () => {
    const path = await configFile({
      server: { allowedHosts: ["a.contoso.com", "b.contoso.com", "c.contoso.com"] },
    });
    const fromEnv = await loadConfig({ file: path, env: { PAVED_SERVER__ALLOWEDHOSTS__0: "x.contoso.com" } });
    expect(fromEnv.server.allowedHosts).toStrictEqual(["x.contoso.com"]);
    const fromCode = await loadConfig({
      file: path,
      env: {},
      overrides: { server: { allowedHosts: ["y.contoso.com"] } },
    });
    expect(fromCode.server.allowedHosts).toStrictEqual(["y.contoso.com"]);
  });

  it("rejects an empty list that replaces a valid one (allowedHosts needs at least one host)", async () => {
    const path = await configFile({ server: { allowedHosts: ["a.contoso.com"] } });
    const error = await configError({ file: path, env: {}, overrides: { server: { allowedHosts: [] } } });
    expect(error.message).toBe(
      "Invalid Paved configuration:\n  - server.allowedHosts (from code): Too small: expected array to have >=1 items",
    );
  });

  it("ignores undefined values in code", async () => {
    const path = await configFile({ server: { path: "/file" } });
    const config = await loadConfig({ file: path, env: {}, overrides: { server: { path: undefined } } });
    expect(config.server.path).toBe("/file");
  });

  it("does not complain about a bad value that a later source overrides", async () => {
    const path = await configFile({ server: { maxBodyBytes: 1 } });
    const config = await loadConfig({ file: path, env: { PAVED_SERVER__MAXBODYBYTES: "2048" } });
    expect(config.server.maxBodyBytes).toBe(2048);
  });

  it("blames the source whose value won, even when a later source sets a sibling or the whole object", async () => {
    const path = await configFile({ server: { maxBodyBytes: 1, sessions: { maxTotal: 0 } } });
    const error = await configError({
      file: path,
      env: { PAVED_SERVER__SESSIONS: '{"maxPerUser":5}', PAVED_SERVER__PATH: "/env" },
      overrides: { server: { requestTimeoutMs: 1 } },
    });
    expect(error.issues).toStrictEqual([
      { key: "server.maxBodyBytes", source: "file", origin: path, expected: tooSmall(1024) },
      { key: "server.requestTimeoutMs", source: "code", expected: tooSmall(1000) },
      { key: "server.sessions.maxTotal", source: "file", origin: path, expected: tooSmall(1) },
    ]);
  });

  it("blames code for bad values and unknown keys given in code", async () => {
    const error = await configError({
      file: false,
      env: {},
      overrides: { server: { foo: 1 }, nope: {} } as unknown as PavedConfigInput,
    });
    expect(error.message).toBe(
      [
        "Invalid Paved configuration:",
        "  - server.foo (from code): no such configuration key",
        "  - nope (from code): no such configuration key",
      ].join("\n"),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------------

describe("the configuration file", () => {
  it("reads paved.config.json from cwd when it exists", async () => {
    const dir = await tempDir();
    try {
      await dir.file("paved.config.json", { server: { path: "/from-default-file" } });
      const config = await loadConfig({ cwd: dir.dir, env: {} });
      expect(config.server.path).toBe("/from-default-file");
    } finally {
      await dir.cleanup();
    }
  });

  it("uses defaults when cwd has no paved.config.json and no file is named", async () => {
    const dir = await tempDir();
    try {
      const config = await loadConfig({ cwd: dir.dir, env: {} });
      expect(config).toStrictEqual(parseConfig());
    } finally {
      await dir.cleanup();
    }
  });

  it("reads the file PAVED_CONFIG names, relative to cwd, instead of paved.config.json", async () => {
    await tmp.file("paved.config.json", { server: { path: "/default-file" } });
    await tmp.file("custom.json", { server: { path: "/custom" } });
    const config = await loadConfig({ cwd: tmp.dir, env: { PAVED_CONFIG: "custom.json" } });
    expect(config.server.path).toBe("/custom");
  });

  it("prefers the file option over PAVED_CONFIG, and file: false reads no file at all", async () => {
    await tmp.file("paved.config.json", { server: { path: "/default-file" } });
    const option = await tmp.file("option.json", { server: { path: "/option" } });
    expect(
      (await loadConfig({ cwd: tmp.dir, file: option, env: { PAVED_CONFIG: "missing.json" } })).server.path,
    ).toBe("/option");
    expect(
      (await loadConfig({ cwd: tmp.dir, file: false, env: { PAVED_CONFIG: "missing.json" } })).server.path,
    ).toBe("/mcp");
  });

  it("treats an empty PAVED_CONFIG as unset", async () => {
    const dir = await tempDir();
    try {
      await dir.file("paved.config.json", { server: { path: "/default-file" } });
      const config = await loadConfig({ cwd: dir.dir, env: { PAVED_CONFIG: "" } });
      expect(config.server.path).toBe("/default-file");
    } finally {
      await dir.cleanup();
    }
  });

  it("fails with ERR_CONFIG_FILE when PAVED_CONFIG names a missing file", async () => {
    const missing = join(tmp.dir, "missing.json");
    const error = await fileError({ cwd: tmp.dir, env: { PAVED_CONFIG: "missing.json" } });
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error.status).toBe(500);
    expect(error.message).toBe(
      `Cannot read the configuration file ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    );
  });

  it("fails with ERR_CONFIG_FILE when the file option names a missing file", async () => {
    const missing = join(tmp.dir, "nowhere.json");
    const error = await fileError({ file: missing, env: {} });
    expect(error.message).toBe(
      `Cannot read the configuration file ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    );
  });

  it.each([
    ["a trailing comma", '{ "server": { "path": "/mcp", } }'],
    ["comments", '// settings\n{ "server": {} }'],
    ["nothing", ""],
    ["single quotes", "{ 'server': {} }"],
  ])("fails with ERR_CONFIG_FILE when the file is not valid JSON (%s)", async (_, text) => {
    const path = await configFile(text);
    const error = await fileError({ file: path, env: {} });
    expect(error.message).toBe(`The configuration file ${path} is not valid JSON: ${jsonParseMessage(text)}`);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it.each([
    ["an array", "[1, 2]"],
    ["a string", '"server"'],
    ["a number", "42"],
    ["null", "null"],
  ])("rejects a file that holds %s instead of an object", async (_, text) => {
    const path = await configFile(text);
    const error = await configError({ file: path, env: {} });
    expect(error.issues).toStrictEqual([
      { key: "(root)", source: "file", origin: path, expected: "a JSON object" },
    ]);
    expect(error.message).toBe(`Invalid Paved configuration:\n  - (root) (from file ${path}): a JSON object`);
  });

  it("rejects unknown keys at every level, naming each with the file", async () => {
    const path = await configFile({
      server: { paht: "/x", sessions: { maxTotl: 5 } },
      telemetry: { logLevel: "info", level: "debug" },
      extra: true,
    });
    const error = await configError({ file: path, env: {} });
    const issue = (key: string) => ({
      key,
      source: "file",
      origin: path,
      expected: "no such configuration key",
    });
    expect(error.issues).toStrictEqual([
      issue("server.sessions.maxTotl"),
      issue("server.paht"),
      issue("telemetry.level"),
      issue("extra"),
    ]);
    expect(error.message).toBe(
      [
        "Invalid Paved configuration:",
        `  - server.sessions.maxTotl (from file ${path}): no such configuration key`,
        `  - server.paht (from file ${path}): no such configuration key`,
        `  - telemetry.level (from file ${path}): no such configuration key`,
        `  - extra (from file ${path}): no such configuration key`,
      ].join("\n"),
    );
  });

  it("keeps keys case-sensitive in the file", async () => {
    const path = await configFile({ server: { Path: "/x" } });
    const error = await configError({ file: path, env: {} });
    expect(error.issues).toStrictEqual([
      { key: "server.Path", source: "file", origin: path, expected: "no such configuration key" },
    ]);
  });

  it('reports a "__proto__" key as unknown instead of reading keys through it', async () => {
    const path = await configFile(
      '{ "__proto__": { "server": { "path": "/evil" } }, "server": { "__proto__": { "path": "/x" } } }',
    );
    const error = await configError({ file: path, env: {} });
    expect(error.issues).toStrictEqual([
      { key: "server.__proto__", source: "file", origin: path, expected: "no such configuration key" },
      { key: "__proto__", source: "file", origin: path, expected: "no such configuration key" },
    ]);
  });

  it("rejects a section that is not an object", async () => {
    const path = await configFile({ server: "https://mcp.contoso.com", telemetry: null });
    const error = await configError({ file: path, env: {} });
    expect(error.issues).toStrictEqual([
      {
        key: "server",
        source: "file",
        origin: path,
        expected: "Invalid input: expected object, received string",
      },
      {
        key: "telemetry",
        source: "file",
        origin: path,
        expected: "Invalid input: expected object, received null",
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Several issues, errors, the result
// ---------------------------------------------------------------------------------------------------

describe("errors", () => {
  it("reports every issue from every source at once, environment typos first", async () => {
    const path = await configFile({
      server: { maxBodyBytes: 5, paht: "/x" },
      telemetry: { logLevel: "loud" },
    });
    const error = await configError({
      file: path,
      env: {
        PAVED_SERVER__PATH: "/.well-known/",
        PAVED_TELEMETRY__SERVICENAMES: "weather",
        PAVED_SERVER__STATELESS: "nah",
      },
      overrides: { server: { requestTimeoutMs: 5 } },
    });
    expect(error.message).toBe(
      [
        "Invalid Paved configuration:",
        "  - telemetry.servicenames (from env PAVED_TELEMETRY__SERVICENAMES): no such configuration key",
        "  - server.path (from env PAVED_SERVER__PATH): a path without a trailing slash",
        "  - server.path (from env PAVED_SERVER__PATH): a path outside /.well-known",
        "  - server.stateless (from env PAVED_SERVER__STATELESS): Invalid input: expected boolean, received string",
        `  - server.maxBodyBytes (from file ${path}): Too small: expected number to be >=1024`,
        "  - server.requestTimeoutMs (from code): Too small: expected number to be >=1000",
        `  - server.paht (from file ${path}): no such configuration key`,
        `  - telemetry.logLevel (from file ${path}): ${LOG_LEVEL}`,
      ].join("\n"),
    );
    expect(error.issues).toHaveLength(8);
    expect(error.issues[5]).toStrictEqual({
      key: "server.requestTimeoutMs",
      source: "code",
      expected: tooSmall(1000),
    });
  });

  it("is a PavedError with code ERR_CONFIG_INVALID, status 500 and name ConfigError", async () => {
    const error = await configError({ file: false, env: { PAVED_SERVER__PATH: "x" } });
    expect(error).toBeInstanceOf(PavedError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("ERR_CONFIG_INVALID");
    expect(error.status).toBe(500);
    expect(error.name).toBe("ConfigError");
  });

  it("rejects the promise rather than throwing synchronously", () => {
    const pending = loadConfig({ file: false, env: { PAVED_SERVER__PATH: "x" } });
    expect(pending).toBeInstanceOf(Promise);
    return expect(pending).rejects.toBeInstanceOf(ConfigError);
  });
});

const DEFAULTS = {
  server: {
    path: "/mcp",
    stateless: true,
    maxBodyBytes: 4 * 1024 * 1024,
    maxHeaderBytes: 16 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    requestDeadlineMs: 120_000,
    shutdownGraceMs: 10_000,
    trustProxy: false,
    maxRequestsPerMinutePerUser: 100,
    maxRequestsPerMinutePerClientAddress: 3_000,
    rateLimitWindowMs: 60_000,
    sessions: { idleTimeoutMs: 1_800_000, maxPerUser: 20, maxTotal: 10_000 },
  },
  store: { keyPrefix: "paved:", failurePolicy: "fail-open" },
  telemetry: { logLevel: "info", auditLog: "log", captureContent: false, prometheus: false },
  downstream: {},
};

describe("the result", () => {
  it("is deeply frozen", async () => {
    const path = await configFile({ server: { allowedHosts: ["mcp.contoso.com"] } });
    const config = await loadConfig({ file: path, env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.server.sessions)).toBe(true);
    expect(Object.isFrozen(config.server.allowedHosts)).toBe(true);
    expect(Object.isFrozen(config.telemetry)).toBe(true);
    expect(() => {
      (config.server as { path: string }).path = "/changed";
    }).toThrow(TypeError);
    expect(() => {
      (config.server.allowedHosts as string[]).push("evil.example");
    }).toThrow(TypeError);
    expect(() => {
      (config.server.sessions as { maxTotal: number }).maxTotal = 1;
    }).toThrow(TypeError);
    expect(config.server.path).toBe("/mcp");
  });

  it("does not freeze or change the caller's overrides", async () => {
    const overrides = { server: { allowedHosts: ["mcp.contoso.com"], sessions: { maxTotal: 5 } } };
    const config = await loadConfig({ file: false, env: {}, overrides });
    expect(Object.isFrozen(overrides.server.allowedHosts)).toBe(false);
    expect(Object.isFrozen(overrides.server.sessions)).toBe(false);
    expect(config.server.allowedHosts).not.toBe(overrides.server.allowedHosts);
    expect(overrides).toStrictEqual({
      server: { allowedHosts: ["mcp.contoso.com"], sessions: { maxTotal: 5 } },
    });
  });

  it("holds every default when no source sets anything", async () => {
    expect(await loadConfig({ file: false, env: {} })).toStrictEqual(DEFAULTS);
  });
});

describe("parseConfig", () => {
  it("fills in every default", () => {
    expect(parseConfig()).toStrictEqual(DEFAULTS);
    expect(parseConfig({})).toStrictEqual(DEFAULTS);
  });

  it("merges what it is given over the defaults and freezes the result", () => {
    const config = parseConfig({
      server: { sessions: { maxTotal: 5 } },
      telemetry: { serviceName: "weather" },
    });
    expect(config.server.sessions).toStrictEqual({ idleTimeoutMs: 1_800_000, maxPerUser: 20, maxTotal: 5 });
    expect(config.telemetry).toStrictEqual({
      logLevel: "info",
      serviceName: "weather",
      auditLog: "log",
      captureContent: false,
      prometheus: false,
    });
    expect(Object.isFrozen(config.server.sessions)).toBe(true);
  });

  it("throws a ConfigError from code, synchronously", () => {
    expect(() => parseConfig({ server: { maxBodyBytes: 10 } })).toThrow(
      new ConfigError([{ key: "server.maxBodyBytes", source: "code", expected: tooSmall(1024) }]),
    );
    expect(() => parseConfig({ server: { maxBodyBytes: 10 } })).toThrow(
      "Invalid Paved configuration:\n  - server.maxBodyBytes (from code): Too small: expected number to be >=1024",
    );
  });

  it("rejects input that is not an object", () => {
    expect(() => parseConfig(5 as unknown as PavedConfigInput)).toThrow(
      "Invalid Paved configuration:\n  - (root) (from code): Invalid input: expected object, received number",
    );
  });
});

describe("isLoadedConfig", () => {
  it("is true for what loadConfig and parseConfig return", async () => {
    expect(isLoadedConfig(await loadConfig({ file: false, env: {} }))).toBe(true);
    expect(isLoadedConfig(parseConfig())).toBe(true);
  });

  it("is false for look-alikes and other values", () => {
    const loaded = parseConfig();
    expect(isLoadedConfig(structuredClone(loaded))).toBe(false);
    expect(isLoadedConfig({ ...loaded })).toBe(false);
    expect(isLoadedConfig(Object.freeze(structuredClone(DEFAULTS)))).toBe(false);
    expect(isLoadedConfig(loaded.server)).toBe(false);
    expect(isLoadedConfig(undefined)).toBe(false);
    expect(isLoadedConfig(null)).toBe(false);
    expect(isLoadedConfig("config")).toBe(false);
  });
});
