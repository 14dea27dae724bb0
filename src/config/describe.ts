import type { z } from "zod";
import { ConfigError } from "../errors.js";
import {
  arrayElement,
  checksOf,
  choicesOf,
  defaultOf,
  enumValues,
  isOptional,
  isRequired,
  kindOf,
  metaOf,
  objectShape,
  unionOptions,
  type LeafKind,
} from "./introspect.js";
import { loadConfig, parseConfig } from "./load.js";
import { configSchema, type PavedConfigInput } from "./schema.js";

/**
 * Walks the configuration schema into rows, one per leaf key: what `docs/configuration.md` is
 * generated from (`npm run docs:config`).
 */

const ENV_PREFIX = "PAVED_";
const ENV_SEPARATOR = "__";

/** One leaf key of the configuration. */
export interface ConfigKeyDoc {
  /** Dotted key, e.g. `server.sessions.maxTotal`. */
  readonly key: string;
  /** Dotted key of the object holding it, e.g. `server.sessions`. */
  readonly section: string;
  readonly kind: LeafKind;
  /** The type and its limits in words, e.g. `integer (bytes), 1024 to 67108864 (1 KiB to 64 MiB)`. */
  readonly type: string;
  /** Whether the key has a default; when not, it stays unset unless a source sets it. */
  readonly hasDefault: boolean;
  /** Whether the key must be set whenever its section is present (it is neither optional nor defaulted). */
  readonly required: boolean;
  readonly default?: unknown;
  /** The key's `.describe()` text. */
  readonly description: string;
  /** The key's `.meta({ example })`. */
  readonly example?: unknown;
  /** The environment variable that sets it, e.g. `PAVED_SERVER__SESSIONS__MAXTOTAL`. */
  readonly env: string;
  /** The allowed values of an enum (or of a union of literals), as text. */
  readonly values?: readonly string[];
}

/** A rule that involves more than one key (a `.refine()` on an object), e.g. `azureAd` and `oidc` exclude each other. */
export interface ConfigRuleDoc {
  /** The key the issue is reported at, e.g. `oidc`; `(root)` when the rule names none. */
  readonly key: string;
  /** The rule's message, as a `ConfigError` shows it. */
  readonly message: string;
}

/** One object of the configuration (`server`, `server.sessions`, …) and its leaf keys. */
export interface ConfigSectionDoc {
  readonly key: string;
  readonly description?: string;
  /** Whether the whole section may be left out (e.g. `azureAd`); its required keys apply only once it is present. */
  readonly optional: boolean;
  /** The variable that sets the whole object as JSON, e.g. `PAVED_SERVER__SESSIONS`. */
  readonly env: string;
  readonly keys: readonly ConfigKeyDoc[];
}

/** `server.sessions.maxTotal` → `PAVED_SERVER__SESSIONS__MAXTOTAL` (names are read case-insensitively). */
export function envVariableName(key: string): string {
  return (
    ENV_PREFIX +
    key
      .split(".")
      .map((segment) => segment.toUpperCase())
      .join(ENV_SEPARATOR)
  );
}

interface Unit {
  readonly suffix: string;
  readonly name: string;
  readonly steps: readonly (readonly [number, string])[];
}

const UNITS: readonly Unit[] = [
  {
    suffix: "Ms",
    name: "milliseconds",
    steps: [
      [3_600_000, "h"],
      [60_000, "min"],
      [1_000, "s"],
      [1, "ms"],
    ],
  },
  {
    suffix: "Bytes",
    name: "bytes",
    steps: [
      [1024 * 1024 * 1024, "GiB"],
      [1024 * 1024, "MiB"],
      [1024, "KiB"],
      [1, "bytes"],
    ],
  },
];

const unitOf = (key: string): Unit | undefined => UNITS.find((unit) => key.endsWith(unit.suffix));

/** 1800000 ms → `30 min`, 4194304 bytes → `4 MiB`; `undefined` when the plain number says it all. */
function human(unit: Unit | undefined, value: number): string | undefined {
  if (unit === undefined || !Number.isInteger(value) || value === 0) return undefined;
  const step = unit.steps.find(([size]) => value % size === 0);
  if (step === undefined || step[0] === 1) return undefined;
  return `${value / step[0]} ${step[1]}`;
}

interface Words {
  /** `string`, `integer (bytes)`, `boolean`, … */
  readonly noun: string;
  readonly plural: string;
  /** Limits: `1024 to 67108864 (1 KiB to 64 MiB)`, `1 to 128 characters`. */
  readonly range?: string;
  /** The schema's own messages for its rules: `a path without a trailing slash`. */
  readonly rules: readonly string[];
  /** The fixed values it allows, in words: `one of RS256, RS384`. */
  readonly choice?: string;
}

interface Bound {
  readonly value: number;
  readonly inclusive: boolean;
}

function rangeInWords(
  min: Bound | undefined,
  max: Bound | undefined,
  show: (value: number) => string,
): string | undefined {
  const low =
    min === undefined
      ? undefined
      : min.inclusive
        ? `at least ${show(min.value)}`
        : `more than ${show(min.value)}`;
  const high =
    max === undefined
      ? undefined
      : max.inclusive
        ? `at most ${show(max.value)}`
        : `less than ${show(max.value)}`;
  if (min?.inclusive === true && max?.inclusive === true) return `${show(min.value)} to ${show(max.value)}`;
  if (low !== undefined && high !== undefined) return `${low} and ${high}`;
  return low ?? high;
}

/** The plural noun for a set of fixed values: `strings` when they are all text, and so on. */
function pluralOfChoices(choices: readonly (string | number | boolean)[]): string {
  const types = new Set(choices.map((choice) => typeof choice));
  if (types.size !== 1) return "values";
  if (types.has("number")) return "numbers";
  return types.has("boolean") ? "booleans" : "strings";
}

/** A length range in words; a minimum of 1 alone is `not empty`. */
function lengthInWords(min: Bound | undefined, max: Bound | undefined, unit: string): string | undefined {
  if (min?.value === 1 && min.inclusive && max === undefined) return "not empty";
  const range = rangeInWords(min, max, String);
  return range === undefined ? undefined : `${range} ${unit}`;
}

/** What one alternative of a union allows, without the noun the union already gives. */
function alternativeInWords(schema: z.ZodType, key: string): string {
  const words = wordsOf(schema, key);
  if (words.choice !== undefined) return words.choice;
  const limits = [words.range, ...words.rules].filter((item) => item !== undefined);
  return limits.length === 0 ? `any ${words.noun}` : limits.join("; ");
}

function wordsOf(schema: z.ZodType, key: string): Words {
  const choices = choicesOf(schema);
  if (choices !== undefined) {
    const choice = `one of ${choices.map(String).join(", ")}`;
    return { noun: choice, plural: pluralOfChoices(choices), rules: [], choice };
  }
  const options = unionOptions(schema);
  if (options !== undefined) {
    const kind = kindOf(schema);
    const noun = kind === "string" || kind === "number" || kind === "boolean" ? kind : "value";
    return {
      noun,
      plural: `${noun}s`,
      rules: [options.map((option) => alternativeInWords(option, key)).join(", or ")],
    };
  }
  const checks = checksOf(schema);
  const rules = checks.flatMap((check) => (check.message === undefined ? [] : [check.message]));
  /** The bound of a check; an exclusive bound on an integer becomes the inclusive one next to it. */
  const bound = (name: string, integerStep: number): Bound | undefined => {
    const check = checks.find((item) => item.check === name && item.value !== undefined);
    if (check?.value === undefined) return undefined;
    if (check.inclusive !== false) return { value: check.value, inclusive: true };
    return integerStep === 0
      ? { value: check.value, inclusive: false }
      : { value: check.value + integerStep, inclusive: true };
  };
  switch (kindOf(schema)) {
    case "boolean":
      return { noun: "boolean", plural: "booleans", rules };
    case "number": {
      const integer = checks.some(
        (check) => check.check === "number_format" && /int/.test(check.format ?? ""),
      );
      const base = integer ? "integer" : "number";
      const unit = unitOf(key);
      const min = bound("greater_than", integer ? 1 : 0);
      const max = bound("less_than", integer ? -1 : 0);

      const plain = rangeInWords(min, max, String);
      const friendly = rangeInWords(min, max, (value) => human(unit, value) ?? String(value));
      const range = plain === undefined || friendly === plain ? plain : `${plain} (${friendly})`;
      return {
        noun: unit === undefined ? base : `${base} (${unit.name})`,
        plural: unit === undefined ? `${base}s` : `${base}s (${unit.name})`,
        ...(range === undefined ? {} : { range }),
        rules,
      };
    }
    case "string": {
      const range = lengthInWords(bound("min_length", 0), bound("max_length", 0), "characters");
      return { noun: "string", plural: "strings", ...(range === undefined ? {} : { range }), rules };
    }
    case "array": {
      const element = arrayElement(schema);
      const length = lengthInWords(bound("min_length", 0), bound("max_length", 0), "items");
      if (element === undefined) {
        return { noun: "list", plural: "lists", ...(length === undefined ? {} : { range: length }), rules };
      }
      const inner = wordsOf(element, key);
      const each = [inner.choice, inner.range, ...inner.rules].filter((item) => item !== undefined);
      const range = [length, each.length === 0 ? undefined : `each ${each.join("; ")}`].filter(
        (item) => item !== undefined,
      );
      return {
        noun: `list of ${inner.plural}`,
        plural: `lists of ${inner.plural}`,
        ...(range.length === 0 ? {} : { range: range.join(", ") }),
        rules,
      };
    }
    case "object":
      return { noun: "object", plural: "objects", rules };
    default:
      return { noun: "value", plural: "values", rules };
  }
}

function typeInWords(schema: z.ZodType, key: string): string {
  const words = wordsOf(schema, key);
  let text = words.noun;
  if (words.range !== undefined) text += `, ${words.range}`;
  if (words.rules.length > 0) text += `: ${words.rules.join("; ")}`;
  return text;
}

function walk(schema: z.ZodType, prefix: string, sections: ConfigSectionDoc[]): ConfigKeyDoc[] {
  const shape = objectShape(schema) ?? {};
  const keys: ConfigKeyDoc[] = [];
  const nested: ConfigSectionDoc[] = [];
  for (const [name, child] of Object.entries(shape)) {
    const key = prefix === "" ? name : `${prefix}.${name}`;
    if (kindOf(child) === "object") {
      const before = sections.length;
      const description = metaOf(child).description;
      const childKeys = walk(child, key, sections);
      // A section comes before the sections nested in it.
      const inner = sections.splice(before);
      nested.push(
        {
          key,
          ...(description === undefined ? {} : { description }),
          optional: isOptional(child),
          env: envVariableName(key),
          keys: childKeys,
        },
        ...inner,
      );
      keys.push(...childKeys);
      continue;
    }
    const meta = metaOf(child);
    const fallback = defaultOf(child);
    const values = choicesOf(child) === undefined ? undefined : enumValues(child);
    keys.push({
      key,
      section: prefix,
      kind: kindOf(child),
      type: typeInWords(child, key),
      hasDefault: fallback !== undefined,
      required: isRequired(child),
      ...(fallback === undefined ? {} : { default: fallback }),
      description: meta.description ?? "",
      ...("example" in meta ? { example: meta.example } : {}),
      env: envVariableName(key),
      ...(values === undefined ? {} : { values }),
    });
  }
  sections.push(...nested);
  return keys;
}

/** The sections (objects) of the configuration, outer before nested, each with its own leaf keys. */
export function describeSections(schema: z.ZodType = configSchema): ConfigSectionDoc[] {
  const sections: ConfigSectionDoc[] = [];
  walk(schema, "", sections);
  return sections.map((section) => ({
    ...section,
    keys: section.keys.filter((row) => row.section === section.key),
  }));
}

/**
 * The rules that involve more than one key: `.refine()` on the configuration or on one of its
 * sections, keyed where their issue is reported. Rules of a single key are in its `type` instead.
 */
export function describeRules(schema: z.ZodType = configSchema, prefix = ""): ConfigRuleDoc[] {
  const own = checksOf(schema).flatMap((check) => {
    if (check.check !== "custom" || check.message === undefined) return [];
    const key = [prefix, ...(check.path ?? [])].filter((segment) => segment !== "").join(".");
    return [{ key: key === "" ? "(root)" : key, message: check.message }];
  });
  const nested = Object.entries(objectShape(schema) ?? {}).flatMap(([name, child]) =>
    kindOf(child) === "object" ? describeRules(child, prefix === "" ? name : `${prefix}.${name}`) : [],
  );
  return [...own, ...nested];
}

/** One row per leaf key of the configuration (nested objects such as `server.sessions.*` included), in schema order. */
export function describeConfig(schema: z.ZodType = configSchema): ConfigKeyDoc[] {
  return walk(schema, "", []);
}

// ---------------------------------------------------------------------------------------------------
// docs/configuration.md
// ---------------------------------------------------------------------------------------------------

const code = (text: string): string => (text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``);
const cell = (text: string): string => text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
/** A value as the docs show it: text as is (the empty string as `""`, so its code span is not empty), the rest as JSON. */
const shown = (value: unknown): string =>
  typeof value === "string" && value !== "" ? value : JSON.stringify(value);

function defaultCell(row: ConfigKeyDoc): string {
  if (row.required) return "_(required)_";
  if (!row.hasDefault) return "_(unset)_";
  const value = row.default;
  const friendly = typeof value === "number" ? human(unitOf(row.key), value) : undefined;
  return friendly === undefined ? code(shown(value)) : `${code(shown(value))} (${friendly})`;
}

function typeCell(row: ConfigKeyDoc): string {
  if (row.values !== undefined) return `one of ${row.values.map(code).join(", ")}`;
  return row.type;
}

function descriptionCell(row: ConfigKeyDoc): string {
  const example = "example" in row ? ` Example: ${code(shown(row.example))}.` : "";
  return `${row.description}${example}`.trim();
}

function table(rows: readonly ConfigKeyDoc[]): string {
  const lines = [
    "| Key | Type | Default | Environment variable | Description |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (row) =>
        `| ${[code(row.key), typeCell(row), defaultCell(row), code(row.env), descriptionCell(row)].map(cell).join(" | ")} |`,
    ),
  ];
  return lines.join("\n");
}

type Env = Record<string, string>;

const shell = (env: Env): string =>
  Object.entries(env)
    .map(([name, value]) => `${name}=${/^[\w.,:/@+-]*$/.test(value) ? value : `'${value}'`}`)
    .join(" ");

/** Loads `env` alone and checks it yields `expected` at `key`, so an example in the docs cannot rot. */
async function verified(env: Env, key: string, expected: unknown): Promise<Env> {
  const config = await loadConfig({ file: false, env });
  const actual = key
    .split(".")
    .reduce<unknown>((node, segment) => (node as Record<string, unknown>)[segment], config);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `docs example ${shell(env)} gives ${JSON.stringify(actual)} at ${key}, not ${JSON.stringify(expected)}`,
    );
  }
  return env;
}

async function errorExample(env: Env): Promise<ConfigError> {
  try {
    await loadConfig({ file: false, env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`docs example ${shell(env)} unexpectedly loads`);
}

const indent = (text: string): string =>
  text
    .split("\n")
    .map((line) => (line === "" ? line : `  ${line}`))
    .join("\n");

const fence = (language: string, body: string): string => `\`\`\`${language}\n${body}\n\`\`\``;

/** A value as the text of its variable: lists comma-separated, text as is, the rest as JSON. */
const envText = (value: unknown): string =>
  Array.isArray(value) ? value.join(",") : typeof value === "string" ? value : JSON.stringify(value);

/** `a`, `a and b`, `a, b and c`. */
const inWords = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1) ?? ""}`;

/** `{ azureAd: { tenantId: … } }` from `azureAd.tenantId`. */
const nestedValue = (key: string, value: unknown): Record<string, unknown> =>
  key.split(".").reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value) as Record<
    string,
    unknown
  >;

/**
 * What the page says about an optional section (`azureAd`, `oidc`): that it may be left out, which of
 * its keys are required once it is there, and the smallest valid section built from their examples,
 * loaded from a file shape and from the environment so the example cannot rot.
 */
async function optionalSectionParts(section: ConfigSectionDoc): Promise<string[]> {
  const required = section.keys.filter((row) => row.required);
  const names = required.map((row) => code(row.key.slice(section.key.length + 1)));
  if (required.length === 0) {
    return [`Optional: leave ${code(section.key)} out and none of its keys apply.`];
  }
  const lead =
    `Optional: leave ${code(section.key)} out and none of its keys apply. ` +
    `Once it is present, ${inWords(names)} ${required.length === 1 ? "is" : "are"} required`;
  if (!required.every((row) => "example" in row)) return [`${lead}.`];

  const value = required.reduce<Record<string, unknown>>(
    (acc, row) => ({ ...acc, [row.key.slice(section.key.length + 1)]: row.example }),
    {},
  );
  const file = nestedValue(section.key, value);
  parseConfig(file);
  const env: Env = Object.fromEntries(required.map((row) => [row.env, envText(row.example)]));
  for (const row of required) await verified(env, row.key, row.example);
  return [
    `${lead}; the smallest valid ${code(section.key)} is`,
    fence("json", JSON.stringify(file, null, 2)),
    "or, in the environment:",
    fence("sh", shell(env)),
  ];
}

/**
 * The whole of `docs/configuration.md`, before formatting with Prettier. Every example in it is loaded
 * while rendering, so the page fails to generate rather than show an example that no longer works.
 */
export async function renderConfigDocs(): Promise<string> {
  const sections = describeSections();
  const rules = describeRules();

  const sampleFile: PavedConfigInput = {
    azureAd: {
      tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      clientId: "00000000-0000-0000-0000-000000000001",
    },
    server: {
      resourceHost: "https://mcp.contoso.com",
      allowedOrigins: ["https://app.contoso.com"],
      sessions: { maxPerUser: 5 },
    },
    telemetry: { logLevel: "warn" },
  };
  parseConfig(sampleFile);

  const hosts = ["mcp.contoso.com", "mcp.fabrikam.com"];
  const naming = [
    await verified(
      { PAVED_SERVER__RESOURCEHOST: "https://mcp.contoso.com" },
      "server.resourceHost",
      "https://mcp.contoso.com",
    ),
    await verified({ PAVED_TELEMETRY__LOGLEVEL: "debug" }, "telemetry.logLevel", "debug"),
    await verified({ PAVED_SERVER__SESSIONS__MAXPERUSER: "5" }, "server.sessions.maxPerUser", 5),
  ];
  const anyCase = await verified(
    { paved_server__sessions__maxPerUser: "5" },
    "server.sessions.maxPerUser",
    5,
  );
  const whole = await verified(
    { PAVED_SERVER__SESSIONS: '{"maxPerUser":5,"maxTotal":1000}' },
    "server.sessions.maxTotal",
    1000,
  );
  const lists = [
    await verified({ PAVED_SERVER__ALLOWEDHOSTS: hosts.join(",") }, "server.allowedHosts", hosts),
    await verified({ PAVED_SERVER__ALLOWEDHOSTS: JSON.stringify(hosts) }, "server.allowedHosts", hosts),
    await verified(
      { PAVED_SERVER__ALLOWEDHOSTS__0: hosts[0] ?? "", PAVED_SERVER__ALLOWEDHOSTS__1: hosts[1] ?? "" },
      "server.allowedHosts",
      hosts,
    ),
  ];
  const truthy = await Promise.all(
    ["true", "1", "yes", "on"].map((word) =>
      verified({ PAVED_SERVER__TRUSTPROXY: word }, "server.trustProxy", true),
    ),
  );
  const falsy = await Promise.all(
    ["false", "0", "no", "off"].map((word) =>
      verified({ PAVED_SERVER__STATELESS: word }, "server.stateless", false),
    ),
  );
  const number = await verified({ PAVED_SERVER__MAXBODYBYTES: "8388608" }, "server.maxBodyBytes", 8_388_608);

  const failing = await errorExample({
    PAVED_SERVER__MAXBODYBYTES: "8MB",
    PAVED_SERVER__STATELES: "false",
    PAVED_TELEMETRY__LOGLEVEL: "verbose",
  });
  const failingEnv = shell({
    PAVED_SERVER__MAXBODYBYTES: "8MB",
    PAVED_SERVER__STATELES: "false",
    PAVED_TELEMETRY__LOGLEVEL: "verbose",
  });

  const parts: string[] = [
    "<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit: change the schema and run it again. -->",
    "# Configuration",
    "Paved reads its configuration once, at start-up, from defaults, a JSON file, `PAVED_…` environment variables and code. " +
      "It validates everything against one schema, reports every problem at once, and freezes the result: " +
      "the configuration never changes while the server runs.",
    fence(
      "ts",
      [
        'import { createMcpHost, loadConfig } from "paved-mcp";',
        "",
        "const config = await loadConfig(); // paved.config.json + PAVED_… variables",
        'const host = createMcpHost({ config, server: { name: "weather", version: "1.0.0" }, tools, tokenValidator });',
      ].join("\n"),
    ),
    "## Sources and precedence",
    "Each source overrides the ones before it, key by key:",
    [
      "1. **Defaults** — the _Default_ column below.",
      "2. **JSON file** — `paved.config.json` in the working directory, or the file `PAVED_CONFIG` names.",
      "3. **Environment** — `PAVED_…` variables.",
      "4. **Code** — `loadConfig({ overrides })`.",
    ].join("\n"),
    "Objects merge: setting `server.path` in the environment keeps `server.maxBodyBytes` from the file. " +
      "A list or a single value replaces the one from an earlier source as a whole; lists are never concatenated.",
    "`loadConfig(options)` takes `file` (a path, or `false` to read no file), `env` (default `process.env`), " +
      "`overrides` and `cwd` (what relative paths resolve against; default `process.cwd()`). " +
      "It returns a promise of the frozen configuration. " +
      "Plain values given to `createMcpHost({ config: { … } })` instead are parsed on their own, with defaults but no file and no environment.",
    "## File",
    "`loadConfig()` reads `paved.config.json` from the working directory when it exists. " +
      "`PAVED_CONFIG=path/to/file.json` or `loadConfig({ file })` names another file, relative to `cwd`; " +
      "a file named that way must exist. An empty `PAVED_CONFIG` counts as unset.",
    "The file is one JSON object shaped like the tables below (keys are case-sensitive; unknown keys are errors):",
    fence("json", JSON.stringify(sampleFile, null, 2)),
    "## Environment variables",
    `A variable is \`${ENV_PREFIX}\` followed by the key's path with \`${ENV_SEPARATOR}\` (two underscores) between levels. ` +
      "Names are case-insensitive, so the last two lines set the same key:",
    fence("sh", [...naming, anyCase].map(shell).join("\n")),
    "Every other `PAVED_…` variable is an error, so a typo is reported instead of silently ignored. " +
      "`PAVED_CONFIG` names the file and is not a key.",
    "Values are converted to the key's type:",
    [
      "- **Lists**: a comma-separated list, a JSON array, or one variable per item with its index (`__0`, `__1`, …). These all set `server.allowedHosts` to the same two hosts:",
      "",
      indent(fence("sh", lists.map(shell).join("\n"))),
      "",
      `- **Booleans**: ${truthy.map((env) => code(Object.values(env)[0] ?? "")).join(", ")} for true and ${falsy
        .map((env) => code(Object.values(env)[0] ?? ""))
        .join(", ")} for false, in any case.`,
      `- **Numbers**: decimal, e.g. ${code(shell(number))}. Units, hexadecimal and other text (\`8MB\`, \`0x800000\`) are errors.`,
      `- **Objects**: a whole object as JSON, e.g. ${code(shell(whole))}.`,
      "- **Text**: as is, surrounding spaces included.",
    ].join("\n"),
    "## Errors",
    'Problems in the file, the environment or code throw a `ConfigError` (`code: "ERR_CONFIG_INVALID"`) that lists every problem, ' +
      "one a line, with the key, where the value came from (the file path or the variable name) and what is expected. " +
      "For example, with these variables",
    fence("sh", `${failingEnv} node server.js`),
    "`await loadConfig()` rejects with:",
    fence("text", failing.message),
    "`error.issues` holds the same as data, one `{ key, source, origin?, expected }` per problem, e.g.:",
    fence("json", JSON.stringify(failing.issues[0], null, 2)),
    'A configuration file that is missing (when named), unreadable or not valid JSON throws a `PavedError` with `code: "ERR_CONFIG_FILE"`; ' +
      "a file that holds JSON other than an object is a `ConfigError` for the key `(root)`.",
    "## Reference",
    "Every key with its type, default, environment variable and meaning. Keys without a default stay unset unless a source sets them; " +
      "keys marked _(required)_ must be set whenever their section is present.",
  ];
  if (rules.length > 0) {
    parts.push(
      "Some rules involve more than one key; an error reports them at the key shown:",
      rules.map((rule) => `- ${code(rule.key)}: ${rule.message}.`).join("\n"),
    );
  }

  for (const section of sections) {
    parts.push(`### \`${section.key}\``);
    if (section.description !== undefined) parts.push(section.description);
    if (section.optional) parts.push(...(await optionalSectionParts(section)));
    parts.push(`The whole object can also be given as JSON in ${code(section.env)}.`);
    parts.push(table(section.keys));
  }
  // Top-level keys that are maps of named entries (`downstream.<name>`): no fixed keys to list per section.
  const topLevel = describeConfig().filter((row) => row.section === "");
  for (const row of topLevel) {
    parts.push(`### \`${row.key}\``);
    parts.push(table([row]));
  }

  return `${parts.join("\n\n")}\n`;
}
