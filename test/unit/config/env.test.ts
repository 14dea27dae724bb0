import { describe, expect, it } from "vitest";
import { configFromEnv } from "../../../src/config/env.js";
import { loadConfig } from "../../../src/config/load.js";
import { configSchema } from "../../../src/config/schema.js";
import { AZURE_AD_REQUIRED, CLIENT_ID, ISSUER, TENANT_ID, configError } from "./support.js";

/** Loads with only these variables (never `process.env`) and no file. */
const fromEnv = (env: Record<string, string>) => loadConfig({ file: false, env });

const NO_SUCH_KEY = "no such configuration key";
const HOST = "a host name without port (e.g. api.contoso.com, 127.0.0.1, [::1]) or * for any host";

describe("environment variable names", () => {
  it.each([
    "PAVED_SERVER__PATH",
    "paved_server__path",
    "Paved_Server__Path",
    "PAVED_server__PATH",
    "PAVED_SERVER__pAtH",
  ])("reads keys case-insensitively: %s", async (name) => {
    const config = await fromEnv({ [name]: "/any-case" });
    expect(config.server.path).toBe("/any-case");
  });

  it("reads nested keys with __ between each level", async () => {
    const config = await fromEnv({
      PAVED_SERVER__SESSIONS__MAXTOTAL: "77",
      paved_server__sessions__maxPerUser: "7",
    });
    expect(config.server.sessions).toStrictEqual({ idleTimeoutMs: 1_800_000, maxPerUser: 7, maxTotal: 77 });
  });

  it("ignores variables without the PAVED_ prefix", async () => {
    const config = await fromEnv({
      PATH: "/usr/bin",
      HOME: "/root",
      NODE_ENV: "production",
      PAVEDSERVER__PATH: "/x",
      SERVER__PATH: "/y",
    });
    expect(config.server.path).toBe("/mcp");
  });

  it("treats PAVED_CONFIG as the file name, not a key", () => {
    const configured = configFromEnv(configSchema, { PAVED_CONFIG: "paved.json" });
    expect(configured.issues).toStrictEqual([]);
    expect(configured.value).toStrictEqual({});
  });

  it.each([
    ["a misspelt key", "PAVED_SERVER__MAXBODYBYTE", "4096", "server.maxbodybyte"],
    ["a misspelt section", "PAVED_SERVR__PATH", "/x", "servr"],
    ["a key without its section", "PAVED_LOGLEVEL", "debug", "loglevel"],
    ["a single underscore between levels", "PAVED_SERVER_PATH", "/x", "server_path"],
    ["a level below a leaf", "PAVED_SERVER__PATH__X", "/x", "server.path.x"],
    ["an index on an object", "PAVED_SERVER__SESSIONS__0", "1", "server.sessions.0"],
    ["a key inside a list item", "PAVED_SERVER__ALLOWEDHOSTS__0__NAME", "x", "server.allowedHosts.0.name"],
    ["the bare prefix", "PAVED_", "1", "PAVED_"],
    ["a trailing separator", "PAVED_SERVER__", "1", "server."],
  ])("rejects %s, naming the variable (%s)", async (_, name, value, key) => {
    const error = await configError({ file: false, env: { [name]: value } });
    expect(error.issues).toStrictEqual([{ key, source: "env", origin: name, expected: NO_SUCH_KEY }]);
    expect(error.message).toBe(`Invalid Paved configuration:\n  - ${key} (from env ${name}): ${NO_SUCH_KEY}`);
  });

  it("reports each unknown variable, in name order", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_TELEMETRY__LEVEL: "debug", PAVED_SERVER__PAHT: "/x", PAVED_SERVER__PATH: "/ok" },
    });
    expect(error.message).toBe(
      [
        "Invalid Paved configuration:",
        "  - server.paht (from env PAVED_SERVER__PAHT): no such configuration key",
        "  - telemetry.level (from env PAVED_TELEMETRY__LEVEL): no such configuration key",
      ].join("\n"),
    );
  });
});

describe("lists from the environment", () => {
  const hosts = ["mcp.contoso.com", "mcp.fabrikam.com"];

  it.each([
    ["a comma-separated list", { PAVED_SERVER__ALLOWEDHOSTS: "mcp.contoso.com,mcp.fabrikam.com" }],
    [
      "a comma-separated list with spaces",
      { PAVED_SERVER__ALLOWEDHOSTS: " mcp.contoso.com , mcp.fabrikam.com " },
    ],
    ["a JSON array", { PAVED_SERVER__ALLOWEDHOSTS: '["mcp.contoso.com", "mcp.fabrikam.com"]' }],
    [
      "a JSON array with spaces around it",
      { PAVED_SERVER__ALLOWEDHOSTS: '  ["mcp.contoso.com","mcp.fabrikam.com"]  ' },
    ],
    [
      "__0 and __1",
      { PAVED_SERVER__ALLOWEDHOSTS__0: "mcp.contoso.com", PAVED_SERVER__ALLOWEDHOSTS__1: "mcp.fabrikam.com" },
    ],
    [
      "__1 before __0 in the object",
      { PAVED_SERVER__ALLOWEDHOSTS__1: "mcp.fabrikam.com", paved_server__allowedhosts__0: "mcp.contoso.com" },
    ],
  ])("reads %s", async (_, env) => {
    const config = await fromEnv(env);
    expect(config.server.allowedHosts).toStrictEqual(hosts);
  });

  it("reads a single item without a comma, and an empty value as an empty list", async () => {
    expect((await fromEnv({ PAVED_SERVER__ALLOWEDHOSTS: "*" })).server.allowedHosts).toStrictEqual(["*"]);
    expect((await fromEnv({ PAVED_SERVER__ALLOWEDORIGINS: "" })).server.allowedOrigins).toStrictEqual([]);
  });

  it("rejects an empty value for a list that needs an item (server.allowedHosts)", async () => {
    const error = await configError({ file: false, env: { PAVED_SERVER__ALLOWEDHOSTS: "" } });
    expect(error.message).toBe(
      "Invalid Paved configuration:\n  - server.allowedHosts (from env PAVED_SERVER__ALLOWEDHOSTS): Too small: expected array to have >=1 items",
    );
  });

  it("lets an indexed item replace one item of a whole-list variable", async () => {
    const config = await fromEnv({
      PAVED_SERVER__ALLOWEDHOSTS: "a.contoso.com,b.contoso.com",
      PAVED_SERVER__ALLOWEDHOSTS__1: "c.contoso.com",
    });
    expect(config.server.allowedHosts).toStrictEqual(["a.contoso.com", "c.contoso.com"]);
  });

  it("validates each item and names it by index", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_SERVER__ALLOWEDHOSTS: "ok.contoso.com,,bad host" },
    });
    expect(error.message).toBe(
      [
        "Invalid Paved configuration:",
        `  - server.allowedHosts.1 (from env PAVED_SERVER__ALLOWEDHOSTS): ${HOST}`,
        `  - server.allowedHosts.2 (from env PAVED_SERVER__ALLOWEDHOSTS): ${HOST}`,
      ].join("\n"),
    );
  });

  it("names the indexed variable for a bad item", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_SERVER__ALLOWEDHOSTS__0: "ok.contoso.com", PAVED_SERVER__ALLOWEDHOSTS__1: "bad:1" },
    });
    expect(error.issues).toStrictEqual([
      {
        key: "server.allowedHosts.1",
        source: "env",
        origin: "PAVED_SERVER__ALLOWEDHOSTS__1",
        expected: HOST,
      },
    ]);
  });

  it("blames a gap in the indexes on the environment, not the defaults", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_SERVER__ALLOWEDHOSTS__1: "mcp.contoso.com" },
    });
    expect(error.issues).toStrictEqual([
      {
        key: "server.allowedHosts.0",
        source: "env",
        origin: "PAVED_SERVER__ALLOWEDHOSTS__1",
        expected: "Invalid input: expected string, received undefined",
      },
    ]);
  });

  it("reports a JSON array that does not parse as text", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_SERVER__ALLOWEDORIGINS: '["https://a.contoso.com",' },
    });
    expect(error.message).toBe(
      "Invalid Paved configuration:\n  - server.allowedOrigins (from env PAVED_SERVER__ALLOWEDORIGINS): Invalid input: expected array, received string",
    );
  });
});

describe("lists of fixed numbers from the environment (azureAd.tokenVersions)", () => {
  const versions = async (env: Record<string, string>) =>
    (await fromEnv({ ...AZURE_AD_REQUIRED.env, ...env })).azureAd?.tokenVersions;

  it.each([
    ["a comma-separated list", { PAVED_AZUREAD__TOKENVERSIONS: "1,2" }, [1, 2]],
    ["a comma-separated list with spaces", { PAVED_AZUREAD__TOKENVERSIONS: " 1 , 2 " }, [1, 2]],
    ["a single item", { PAVED_AZUREAD__TOKENVERSIONS: "1" }, [1]],
    ["a JSON array", { PAVED_AZUREAD__TOKENVERSIONS: "[2,1]" }, [2, 1]],
    ["__0 and __1", { PAVED_AZUREAD__TOKENVERSIONS__0: "1", PAVED_AZUREAD__TOKENVERSIONS__1: "2" }, [1, 2]],
    ["a decimal spelling of a number", { PAVED_AZUREAD__TOKENVERSIONS: "1.0,+2" }, [1, 2]],
  ])("reads %s as numbers", async (_, env, expected) => {
    expect(await versions(env)).toStrictEqual(expected);
  });

  it.each([
    ["a number that is not allowed", "1,3", "azureAd.tokenVersions.1"],
    ["text", "v2", "azureAd.tokenVersions.0"],
    ["hexadecimal", "0x1", "azureAd.tokenVersions.0"],
    ["a JSON string in the array", '["1"]', "azureAd.tokenVersions.0"],
  ])("rejects %s, naming the item", async (_, text, key) => {
    const error = await configError({
      file: false,
      env: { ...AZURE_AD_REQUIRED.env, PAVED_AZUREAD__TOKENVERSIONS: text },
    });
    expect(error.issues).toStrictEqual([
      {
        key,
        source: "env",
        origin: "PAVED_AZUREAD__TOKENVERSIONS",
        expected: "1 or 2 (the access-token version)",
      },
    ]);
  });
});

describe("lists of fixed words from the environment (oidc.algorithms)", () => {
  it("reads the words as they are, case included", async () => {
    const config = await fromEnv({ PAVED_OIDC__ISSUER: ISSUER, PAVED_OIDC__ALGORITHMS: "ES256, EdDSA" });
    expect(config.oidc?.algorithms).toStrictEqual(["ES256", "EdDSA"]);
  });

  it("rejects HS256 and none, naming each item", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_OIDC__ISSUER: ISSUER, PAVED_OIDC__ALGORITHMS: "HS256,RS256,none" },
    });
    expect(error.issues.map((issue) => [issue.key, issue.origin])).toStrictEqual([
      ["oidc.algorithms.0", "PAVED_OIDC__ALGORITHMS"],
      ["oidc.algorithms.2", "PAVED_OIDC__ALGORITHMS"],
    ]);
  });
});

describe("text or fixed words from the environment (azureAd.tenantId)", () => {
  it.each([TENANT_ID, "common", "organizations"])("keeps %s as text", async (tenantId) => {
    const config = await fromEnv({ PAVED_AZUREAD__TENANTID: tenantId, PAVED_AZUREAD__CLIENTID: CLIENT_ID });
    expect(config.azureAd?.tenantId).toBe(tenantId);
  });
});

describe("the identity sections' variables", () => {
  it("read azureAd and oidc keys case-insensitively, with __ between levels", async () => {
    const config = await fromEnv({
      paved_azuread__tenantid: "common",
      Paved_AzureAd__ClientId: CLIENT_ID,
      PAVED_AZUREAD__ALLOWEDTENANTS__0: TENANT_ID,
    });
    expect(config.azureAd).toMatchObject({
      tenantId: "common",
      clientId: CLIENT_ID,
      allowedTenants: [TENANT_ID],
    });
  });

  it.each([
    ["a misspelt identity section", "PAVED_AZURE__TENANTID", "azure"],
    ["a misspelt azureAd key", "PAVED_AZUREAD__TENANT", "azureAd.tenant"],
    ["a misspelt oidc key", "PAVED_OIDC__ISSUERURL", "oidc.issuerurl"],
    ["an index on a section", "PAVED_OIDC__0", "oidc.0"],
  ])("reject %s (%s)", async (_, name, key) => {
    const error = await configError({ file: false, env: { [name]: "x" } });
    expect(error.issues).toStrictEqual([{ key, source: "env", origin: name, expected: NO_SUCH_KEY }]);
  });
});

describe("booleans from the environment", () => {
  it.each([
    ["true", true],
    ["false", false],
    ["1", true],
    ["0", false],
    ["yes", true],
    ["no", false],
    ["on", true],
    ["off", false],
    ["TRUE", true],
    ["False", false],
    [" Yes ", true],
    ["OFF", false],
  ])("reads %j as %s", async (text, expected) => {
    expect((await fromEnv({ PAVED_SERVER__TRUSTPROXY: text })).server.trustProxy).toBe(expected);
  });

  it.each(["y", "n", "2", "-1", "enabled", "truee", "", "constructor", "__proto__", "toString"])(
    "rejects %j",
    async (text) => {
      const error = await configError({ file: false, env: { PAVED_SERVER__TRUSTPROXY: text } });
      expect(error.message).toBe(
        "Invalid Paved configuration:\n  - server.trustProxy (from env PAVED_SERVER__TRUSTPROXY): Invalid input: expected boolean, received string",
      );
    },
  );
});

describe("numbers from the environment", () => {
  it.each([
    ["2048", 2048],
    [" 2048 ", 2048],
    ["+2048", 2048],
    ["2048.0", 2048],
    ["2.048e3", 2048],
    ["2E3", 2000],
    ["0002048", 2048],
  ])("reads %j as %d", async (text, expected) => {
    expect((await fromEnv({ PAVED_SERVER__MAXBODYBYTES: text })).server.maxBodyBytes).toBe(expected);
  });

  it.each([
    "4MB",
    "4096 bytes",
    "4_096",
    "4,096",
    "0x1000",
    "0o10000",
    "0b1000000000000",
    "Infinity",
    "NaN",
    "",
    "   ",
    "1e",
    ".",
    "--4096",
    "4096-",
  ])("rejects %j", async (text) => {
    const error = await configError({ file: false, env: { PAVED_SERVER__MAXBODYBYTES: text } });
    expect(error.issues).toStrictEqual([
      {
        key: "server.maxBodyBytes",
        source: "env",
        origin: "PAVED_SERVER__MAXBODYBYTES",
        expected: "Invalid input: expected number, received string",
      },
    ]);
  });

  it("rejects a fraction for an integer key", async () => {
    const error = await configError({ file: false, env: { PAVED_SERVER__MAXBODYBYTES: "2048.5" } });
    expect(error.message).toBe(
      "Invalid Paved configuration:\n  - server.maxBodyBytes (from env PAVED_SERVER__MAXBODYBYTES): Invalid input: expected int, received number",
    );
  });
});

describe("text from the environment", () => {
  it("keeps text as is, spaces included", async () => {
    const config = await fromEnv({ PAVED_TELEMETRY__SERVICENAME: "  weather  " });
    expect(config.telemetry.serviceName).toBe("  weather  ");
  });
});

describe("whole objects as JSON", () => {
  it("reads a section from JSON and merges it with the defaults", async () => {
    const config = await fromEnv({ PAVED_SERVER__SESSIONS: '{"maxPerUser":5,"maxTotal":1000}' });
    expect(config.server.sessions).toStrictEqual({ idleTimeoutMs: 1_800_000, maxPerUser: 5, maxTotal: 1000 });
  });

  it("lets a variable for one key refine a JSON section", async () => {
    const config = await fromEnv({
      PAVED_SERVER__SESSIONS: '{"maxPerUser":5}',
      PAVED_SERVER__SESSIONS__MAXPERUSER: "6",
    });
    expect(config.server.sessions.maxPerUser).toBe(6);
  });

  it("rejects unknown keys inside the JSON, naming the variable", async () => {
    const error = await configError({
      file: false,
      env: { PAVED_TELEMETRY: '{"logLevel":"warn","colour":true}' },
    });
    expect(error.issues).toStrictEqual([
      { key: "telemetry.colour", source: "env", origin: "PAVED_TELEMETRY", expected: NO_SUCH_KEY },
    ]);
  });

  it("rejects text that is not JSON", async () => {
    const error = await configError({ file: false, env: { PAVED_SERVER__SESSIONS: "maxTotal=5" } });
    expect(error.message).toBe(
      "Invalid Paved configuration:\n  - server.sessions (from env PAVED_SERVER__SESSIONS): Invalid input: expected object, received string",
    );
  });

  it("reports the bad section, not a crash, when a variable below it is also set", async () => {
    for (const section of ["maxTotal=5", "null", "5", '"text"']) {
      const error = await configError({
        file: false,
        env: { PAVED_SERVER__SESSIONS: section, PAVED_SERVER__SESSIONS__MAXTOTAL: "5" },
      });
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]).toMatchObject({
        key: "server.sessions",
        source: "env",
        origin: "PAVED_SERVER__SESSIONS",
      });
    }
  });
});

describe("configFromEnv", () => {
  it("converts each key of an optional section to its type, leaving the section's JSON as parsed", () => {
    const result = configFromEnv(configSchema, {
      PAVED_AZUREAD__TOKENVERSIONS: "1,2",
      PAVED_AZUREAD__TENANTID: "common",
      PAVED_AZUREAD__CLOCKSKEWSECONDS: "30",
      PAVED_OIDC: '{"issuer":"https://auth.contoso.com","extra":1}',
    });
    expect(result.value).toStrictEqual({
      azureAd: { tokenVersions: [1, 2], tenantId: "common", clockSkewSeconds: 30 },
      oidc: { issuer: "https://auth.contoso.com", extra: 1 },
    });
    expect(result.issues).toStrictEqual([]);
  });

  it("returns the converted value, the variable behind each key and the issues", () => {
    const result = configFromEnv(configSchema, {
      PAVED_SERVER__MAXBODYBYTES: "2048",
      PAVED_SERVER__ALLOWEDHOSTS__0: "a.contoso.com",
      PAVED_TELEMETRY__COLOUR: "blue",
      UNRELATED: "x",
      PAVED_SERVER__PATH: undefined,
    });
    expect(result.value).toStrictEqual({ server: { maxBodyBytes: 2048, allowedHosts: ["a.contoso.com"] } });
    expect(Object.fromEntries(result.origins)).toStrictEqual({
      "server.allowedHosts": "PAVED_SERVER__ALLOWEDHOSTS__0",
      "server.allowedHosts.0": "PAVED_SERVER__ALLOWEDHOSTS__0",
      "server.maxBodyBytes": "PAVED_SERVER__MAXBODYBYTES",
    });
    expect(result.issues).toStrictEqual([
      { key: "telemetry.colour", source: "env", origin: "PAVED_TELEMETRY__COLOUR", expected: NO_SUCH_KEY },
    ]);
  });
});
