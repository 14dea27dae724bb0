import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import {
  describeConfig,
  describeRules,
  describeSections,
  envVariableName,
  renderConfigDocs,
  type ConfigKeyDoc,
} from "../../../src/config/describe.js";
import { SIGNING_ALGORITHMS } from "../../../src/config/identity-schema.js";
import {
  checksOf,
  choicesOf,
  enumValues,
  isRequired,
  kindOf,
  metaOf,
  unionOptions,
} from "../../../src/config/introspect.js";
import { loadConfig, parseConfig } from "../../../src/config/load.js";
import { AZURE_AD_REQUIRED, CLIENT_ID, OIDC_REQUIRED, TENANT_ID, at, requiredSiblings } from "./support.js";

const DOCS = fileURLToPath(new URL("../../../docs/configuration.md", import.meta.url));

const rowOf = (key: string): ConfigKeyDoc => {
  const row = describeConfig().find((item) => item.key === key);
  if (row === undefined) throw new Error(`no row for ${key}`);
  return row;
};

describe("describeConfig", () => {
  it("has one row per leaf key, nested objects included, in schema order", () => {
    expect(describeConfig().map((row) => row.key)).toStrictEqual([
      "azureAd.instance",
      "azureAd.tenantId",
      "azureAd.clientId",
      "azureAd.applicationIdUri",
      "azureAd.audiences",
      "azureAd.allowedTenants",
      "azureAd.tokenVersions",
      "azureAd.allowedClientApps",
      "azureAd.clientCredentials",
      "azureAd.clockSkewSeconds",
      "oidc.issuer",
      "oidc.audiences",
      "oidc.jwksUri",
      "oidc.algorithms",
      "oidc.requireAccessTokenType",
      "oidc.scopePrefix",
      "oidc.clockSkewSeconds",
      "server.resourceHost",
      "server.path",
      "server.supportedScopes",
      "server.stateless",
      "server.allowedHosts",
      "server.allowedOrigins",
      "server.maxBodyBytes",
      "server.maxHeaderBytes",
      "server.headersTimeoutMs",
      "server.requestTimeoutMs",
      "server.keepAliveTimeoutMs",
      "server.requestDeadlineMs",
      "server.shutdownGraceMs",
      "server.trustProxy",
      "server.maxRequestsPerMinutePerUser",
      "server.maxRequestsPerMinutePerTenant",
      "server.maxRequestsPerMinutePerClientAddress",
      "server.rateLimitWindowMs",
      "server.sessions.idleTimeoutMs",
      "server.sessions.maxPerUser",
      "server.sessions.maxTotal",
      "server.replicaUrl",
      "server.stateKeys",
      "store.redis",
      "store.keyPrefix",
      "store.failurePolicy",
      "telemetry.serviceName",
      "telemetry.logLevel",
      "telemetry.auditLog",
      "telemetry.captureContent",
      "telemetry.prometheus",
      "downstream",
    ]);
  });

  it("documents every key", () => {
    for (const row of describeConfig()) expect(row.description, row.key).not.toBe("");
  });

  it("gives each key's default as parseConfig fills it in (an optional section once it is present)", () => {
    // azureAd and oidc exclude each other, so their defaults come from two parses.
    const defaults = [parseConfig(AZURE_AD_REQUIRED.file), parseConfig(OIDC_REQUIRED.file)];
    for (const row of describeConfig()) {
      const config = row.key.startsWith("oidc.") ? defaults[1] : defaults[0];
      const required = requiredSiblings(row.key)?.file;
      const given = required === undefined ? undefined : at(required, row.key);
      const filled = given === undefined ? at(config, row.key) : undefined;
      expect(row.hasDefault, row.key).toBe(filled !== undefined);
      expect(row.default, row.key).toStrictEqual(filled);
    }
  });

  it("marks as required exactly the keys a present section cannot do without", () => {
    expect(describeConfig().flatMap((row) => (row.required ? [row.key] : []))).toStrictEqual([
      "azureAd.tenantId",
      "azureAd.clientId",
      "oidc.issuer",
    ]);
    expect(() => parseConfig({ azureAd: {} } as never)).toThrow(/azureAd\.tenantId.*\n.*azureAd\.clientId/);
    expect(() => parseConfig({ oidc: {} } as never)).toThrow(/oidc\.issuer/);
  });

  it("names the environment variable that really sets each key", async () => {
    /** A value for the keys with neither an example nor a default. */
    const samples: Record<string, unknown> = {
      "azureAd.allowedTenants": [TENANT_ID],
      "azureAd.allowedClientApps": [CLIENT_ID],
      "oidc.audiences": ["https://mcp.contoso.com/mcp"],
      "oidc.jwksUri": "https://auth.contoso.com/jwks",
    };
    for (const row of describeConfig()) {
      const value =
        row.key in samples
          ? samples[row.key]
          : "example" in row
            ? row.example
            : row.hasDefault
              ? row.default
              : "weather";
      // Lists of objects and maps of named entries are JSON; other lists comma-separated.
      const text =
        typeof value === "object" && value !== null && (!Array.isArray(value) || typeof value[0] === "object")
          ? JSON.stringify(value)
          : Array.isArray(value)
            ? value.join(",")
            : String(value);
      const env = { ...requiredSiblings(row.key)?.env, [row.env]: text };
      const config = await loadConfig({ file: false, env });
      expect(at(config, row.key), row.env).toStrictEqual(value);
    }
  });

  it("describes a number key with its unit and limits", () => {
    expect(rowOf("server.maxBodyBytes")).toStrictEqual({
      key: "server.maxBodyBytes",
      section: "server",
      kind: "number",
      type: "integer (bytes), 1024 to 67108864 (1 KiB to 64 MiB)",
      hasDefault: true,
      required: false,
      default: 4_194_304,
      description: "Largest accepted request body in bytes; larger bodies get 413.",
      env: "PAVED_SERVER__MAXBODYBYTES",
    });
    expect(rowOf("server.shutdownGraceMs").type).toBe("integer (milliseconds), 0 to 600000 (0 to 10 min)");
    expect(rowOf("server.sessions.maxTotal").type).toBe("integer, 1 to 1000000");
  });

  it("describes a string key with the schema's own rules and its example", () => {
    const row = rowOf("server.resourceHost");
    expect(row.type).toBe(
      "string: an https URL without query or fragment (http is allowed only for localhost and 127.0.0.1)",
    );
    expect(row.hasDefault).toBe(false);
    expect("default" in row).toBe(false);
    expect(row.example).toBe("https://mcp.contoso.com");
    expect(rowOf("server.path").type).toBe(
      "string: a path starting with / (letters, digits, . _ ~ - /); a path without a trailing slash; a path outside /.well-known",
    );
    expect(rowOf("telemetry.serviceName").type).toBe("string, 1 to 128 characters");
  });

  it("describes a list key by its length and its items", () => {
    const row = rowOf("server.allowedHosts");
    expect(row.kind).toBe("array");
    expect(row.type).toBe(
      "list of strings, not empty, each a host name without port (e.g. api.contoso.com, 127.0.0.1, [::1]) or * for any host",
    );
    expect(row.example).toStrictEqual(["mcp.contoso.com"]);
    expect(rowOf("server.supportedScopes").type).toBe("list of strings, each not empty");
    expect(rowOf("oidc.audiences").type).toBe("list of strings, not empty, each not empty");
    expect(rowOf("azureAd.allowedTenants").type).toBe(
      "list of strings, each a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47",
    );
  });

  it("describes a list of fixed numbers (a union of literals) by its values", () => {
    expect(rowOf("azureAd.tokenVersions")).toStrictEqual({
      key: "azureAd.tokenVersions",
      section: "azureAd",
      kind: "array",
      type: "list of numbers, not empty, each one of 1, 2",
      hasDefault: true,
      required: false,
      default: [2],
      description:
        "Access-token versions accepted (`accessTokenAcceptedVersion` in the app manifest decides what Entra issues): `[2]`, `[1]` or `[1, 2]`.",
      env: "PAVED_AZUREAD__TOKENVERSIONS",
    });
  });

  it("describes a list of enum values by its values", () => {
    expect(rowOf("oidc.algorithms").type).toBe(
      `list of strings, not empty, each one of ${SIGNING_ALGORITHMS.join(", ")}`,
    );
    expect(rowOf("oidc.algorithms").type).not.toMatch(/HS256|none/);
  });

  it("describes a union of a GUID and fixed words by each alternative", () => {
    expect(rowOf("azureAd.tenantId")).toStrictEqual({
      key: "azureAd.tenantId",
      section: "azureAd",
      kind: "string",
      type: "string: a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or one of common, organizations",
      hasDefault: false,
      required: true,
      description:
        "The tenant that owns the app registration (GUID), or `organizations` / `common` for a multi-tenant app.",
      example: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      env: "PAVED_AZUREAD__TENANTID",
    });
  });

  it("describes the keys of an optional section", () => {
    expect(rowOf("azureAd.instance")).toMatchObject({
      section: "azureAd",
      kind: "string",
      hasDefault: true,
      required: false,
      default: "https://login.microsoftonline.com/",
      env: "PAVED_AZUREAD__INSTANCE",
      type: "string: an https URL without query or fragment (http is allowed only for localhost and 127.0.0.1)",
    });
    expect(rowOf("azureAd.applicationIdUri").type).toBe(
      "string, not empty: an Application ID URI without a trailing slash",
    );
    expect(rowOf("oidc.scopePrefix")).toMatchObject({ type: "string", hasDefault: true, default: "" });
    expect(rowOf("oidc.clockSkewSeconds")).toMatchObject({ type: "integer, 0 to 300", default: 60 });
    expect(rowOf("oidc.issuer")).toMatchObject({
      required: true,
      hasDefault: false,
      example: "https://auth.contoso.com",
    });
  });

  it("lists the allowed values of an enum", () => {
    const row = rowOf("telemetry.logLevel");
    expect(row.values).toStrictEqual(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
    expect(row.type).toBe("one of fatal, error, warn, info, debug, trace, silent");
    expect(row.default).toBe("info");
  });

  it("describes a nested key with its section and variable", () => {
    expect(rowOf("server.sessions.idleTimeoutMs")).toMatchObject({
      section: "server.sessions",
      env: "PAVED_SERVER__SESSIONS__IDLETIMEOUTMS",
      default: 1_800_000,
      type: "integer (milliseconds), 1000 to 86400000 (1 s to 24 h)",
    });
  });

  it("walks any object schema", () => {
    const schema = z.strictObject({
      a: z.strictObject({ b: z.number().min(0).optional().describe("B.").meta({ example: 3 }) }).prefault({}),
      c: z.boolean().optional(),
      d: z.number().gt(0).lt(1),
    });
    expect(describeConfig(schema)).toStrictEqual([
      {
        key: "a.b",
        section: "a",
        kind: "number",
        type: "number, at least 0",
        hasDefault: false,
        required: false,
        description: "B.",
        example: 3,
        env: "PAVED_A__B",
      },
      {
        key: "c",
        section: "",
        kind: "boolean",
        type: "boolean",
        hasDefault: false,
        required: false,
        description: "",
        env: "PAVED_C",
      },
      {
        key: "d",
        section: "",
        kind: "number",
        type: "number, more than 0 and less than 1",
        hasDefault: false,
        required: true,
        description: "",
        env: "PAVED_D",
      },
    ]);
  });
});

describe("describeSections", () => {
  it("lists each object, outer before nested, with its own keys", () => {
    const sections = describeSections();
    expect(
      sections.map((section) => [section.key, section.env, section.optional, section.keys.length]),
    ).toStrictEqual([
      ["azureAd", "PAVED_AZUREAD", true, 10],
      ["oidc", "PAVED_OIDC", true, 7],
      ["server", "PAVED_SERVER", false, 20],
      ["server.sessions", "PAVED_SERVER__SESSIONS", false, 3],
      ["store", "PAVED_STORE", false, 3],
      ["telemetry", "PAVED_TELEMETRY", false, 5],
    ]);
    expect(sections[3]?.description).toBe("Opt-in stateful mode (`stateless: false`) for 2025-era clients.");
    expect(sections[2]?.description).toBeUndefined();
  });

  it("keeps the description of a section described before .optional()", () => {
    const sections = describeSections();
    expect(sections[0]?.description).toBe(
      "Microsoft Entra ID: validate Entra access tokens (v1 and v2, single- and multi-tenant).",
    );
    expect(sections[1]?.description).toBe(
      "Any OpenID Connect issuer: validate its JWT access tokens (RFC 9068).",
    );
  });
});

describe("describeRules", () => {
  it("lists the rule across sections at the key it reports", () => {
    expect(describeRules()).toStrictEqual([
      { key: "oidc", message: "configure one identity provider: azureAd or oidc, not both" },
    ]);
  });

  it("finds refinements on the root and on nested objects, with or without a path", () => {
    const schema = z
      .strictObject({
        a: z
          .strictObject({ x: z.number().optional(), y: z.number().optional() })
          .refine(() => true, { error: "x below y", path: ["y"] })
          .prefault({}),
        b: z.string().refine(() => true, { error: "a key's own rule" }),
      })
      .refine(() => true, { error: "a or b" });
    expect(describeRules(schema)).toStrictEqual([
      { key: "(root)", message: "a or b" },
      { key: "a.y", message: "x below y" },
    ]);
  });
});

describe("introspection helpers", () => {
  it("envVariableName joins upper-cased levels with __", () => {
    expect(envVariableName("server.sessions.maxTotal")).toBe("PAVED_SERVER__SESSIONS__MAXTOTAL");
  });

  it("checksOf reads bounds, formats and the schema's messages", () => {
    expect(checksOf(z.number().int().min(2).max(9).default(3))).toStrictEqual([
      { check: "number_format", format: "safeint" },
      { check: "greater_than", value: 2, inclusive: true },
      { check: "less_than", value: 9, inclusive: true },
    ]);
    expect(checksOf(z.string().regex(/^a/, { error: "starts with a" }).optional())).toStrictEqual([
      { check: "string_format", format: "regex", message: "starts with a" },
    ]);
  });

  it("metaOf reads description and example through wrappers", () => {
    expect(metaOf(z.string().optional().describe("D.").meta({ example: "x" }))).toStrictEqual({
      description: "D.",
      example: "x",
    });
    expect(metaOf(z.string())).toStrictEqual({});
    expect(metaOf(z.strictObject({}).describe("Section.").optional())).toStrictEqual({
      description: "Section.",
    });
    expect(
      metaOf(z.string().describe("Inner.").meta({ example: "i" }).default("d").describe("Outer.")),
    ).toStrictEqual({ description: "Outer.", example: "i" });
  });

  it("kindOf gives a literal or a union the kind its alternatives share", () => {
    expect(kindOf(z.array(z.union([z.literal(1), z.literal(2)])).default([2]))).toBe("array");
    expect(kindOf(z.union([z.literal(1), z.literal(2)]))).toBe("number");
    expect(kindOf(z.literal("x"))).toBe("enum");
    expect(kindOf(z.literal(true))).toBe("boolean");
    expect(kindOf(z.union([z.string().regex(/^a/), z.enum(["common"])]).optional())).toBe("string");
    expect(kindOf(z.union([z.string(), z.number()]))).toBe("other");
    expect(kindOf(z.literal([1, "a"]))).toBe("other");
    expect(kindOf(z.strictObject({}).optional())).toBe("object");
  });

  it("choicesOf lists the fixed values of an enum, a literal or a union of them", () => {
    expect(choicesOf(z.enum(["a", "b"]).default("a"))).toStrictEqual(["a", "b"]);
    expect(choicesOf(z.union([z.literal(1), z.literal(2), z.enum(["x"])]))).toStrictEqual([1, 2, "x"]);
    expect(choicesOf(z.union([z.string(), z.enum(["x"])]))).toBeUndefined();
    expect(choicesOf(z.string())).toBeUndefined();
    expect(enumValues(z.union([z.literal(1), z.literal(2)]))).toStrictEqual(["1", "2"]);
  });

  it("unionOptions gives the alternatives of a union only", () => {
    expect(unionOptions(z.union([z.string(), z.number()]).optional())).toHaveLength(2);
    expect(unionOptions(z.string())).toBeUndefined();
  });

  it("isRequired is false for optional and defaulted keys", () => {
    expect(isRequired(z.string())).toBe(true);
    expect(isRequired(z.string().optional())).toBe(false);
    expect(isRequired(z.string().default("x"))).toBe(false);
    expect(isRequired(z.strictObject({}).prefault({}))).toBe(false);
  });

  it("checksOf reads the path of an object's refinement", () => {
    expect(
      checksOf(z.strictObject({ a: z.number() }).refine(() => true, { error: "m", path: ["a"] })),
    ).toStrictEqual([{ check: "custom", message: "m", path: ["a"] }]);
  });
});

describe("docs/configuration.md", () => {
  it("is up to date with the schema (run `npm run build && npm run docs:config` to regenerate)", async () => {
    const expected = await prettier.format(await renderConfigDocs(), {
      ...((await prettier.resolveConfig(DOCS)) ?? {}),
      filepath: DOCS,
    });
    const actual = await readFile(DOCS, "utf8").catch(() => "(missing)");
    expect(actual, "docs/configuration.md is out of date: run `npm run build && npm run docs:config`").toBe(
      expected,
    );
  });

  it("has a table row for every key with its variable", async () => {
    const docs = await readFile(DOCS, "utf8");
    for (const row of describeConfig()) {
      expect(docs, row.key).toMatch(
        new RegExp(`\\| \`${row.key.replace(/\./g, "\\.")}\` +\\|.*\\| \`${row.env}\` +\\|`),
      );
    }
  });

  it("describes the identity sections: what they are for, that they are optional and what they require", async () => {
    const docs = await readFile(DOCS, "utf8");
    expect(docs).toContain(
      "### `azureAd`\n\nMicrosoft Entra ID: validate Entra access tokens (v1 and v2, single- and multi-tenant).\n\n" +
        "Optional: leave `azureAd` out and none of its keys apply. Once it is present, `tenantId` and `clientId` are required; " +
        "the smallest valid `azureAd` is",
    );
    expect(docs).toContain(
      "### `oidc`\n\nAny OpenID Connect issuer: validate its JWT access tokens (RFC 9068).\n\n" +
        "Optional: leave `oidc` out and none of its keys apply. Once it is present, `issuer` is required; " +
        "the smallest valid `oidc` is",
    );
    expect(docs).toContain(`PAVED_AZUREAD__TENANTID=${TENANT_ID} PAVED_AZUREAD__CLIENTID=${CLIENT_ID}`);
    expect(docs).toContain("PAVED_OIDC__ISSUER=https://auth.contoso.com");
    expect(docs).toContain("- `oidc`: configure one identity provider: azureAd or oidc, not both.");
    expect(docs).toMatch(
      /\| `azureAd\.tenantId` +\| string: a GUID such as [^|]+, or one of common, organizations +\| _\(required\)_ +\|/,
    );
    expect(docs).toMatch(/\| `oidc\.scopePrefix` +\| string +\| `""` +\|/);
  });

  it("shows a real error message", async () => {
    const docs = await readFile(DOCS, "utf8");
    expect(docs).toContain(
      "  - server.maxBodyBytes (from env PAVED_SERVER__MAXBODYBYTES): Invalid input: expected number, received string",
    );
  });
});
