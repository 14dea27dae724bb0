import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { deepFreeze } from "../freeze.js";
import { ConfigError, PavedError, type ConfigIssue, type ConfigSource } from "../errors.js";
import { configFromEnv } from "./env.js";
import { configSchema, type PavedConfig, type PavedConfigInput } from "./schema.js";

const DEFAULT_FILE = "paved.config.json";
const LOADED = new WeakSet<object>();

export interface LoadConfigOptions {
  /**
   * JSON file to read. Default: `PAVED_CONFIG`, else `paved.config.json` in `cwd` when it exists.
   * `false` reads no file. A file named explicitly (here or by `PAVED_CONFIG`) must exist.
   */
  readonly file?: string | false;
  /** Environment to read `PAVED_…` variables from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Options in code; they win over every other source. */
  readonly overrides?: PavedConfigInput;
  /** Directory relative paths resolve against. Default: `process.cwd()`. */
  readonly cwd?: string;
}

interface Layer {
  readonly source: ConfigSource;
  readonly value: unknown;
  /** Where every key of this layer comes from (the file path), unless `origins` knows better. */
  readonly origin?: string;
  /** Dotted key → origin (the variable name) for the keys this layer sets. */
  readonly origins?: ReadonlyMap<string, string>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Deep merge of plain objects; arrays and scalars from `over` replace those in `base`. Keys are defined,
 * not assigned, so a JSON `"__proto__"` key stays a key (and the schema rejects it) instead of
 * becoming the prototype the schema would then read keys from.
 */
function merge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = {};
  const define = (key: string, value: unknown) =>
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  for (const [key, value] of Object.entries(base)) define(key, value);
  for (const [key, value] of Object.entries(over))
    define(key, merge(Object.hasOwn(out, key) ? out[key] : undefined, value));
  return out;
}

/**
 * Whether `value` (one layer) sets the key at `path`: it holds a value there, or a list or scalar above
 * it (which replaces everything below in the merge).
 */
function setsPath(value: unknown, path: readonly PropertyKey[]): boolean {
  let current = value;
  for (const segment of path) {
    if (current === undefined) return false;
    if (!isPlainObject(current)) return true;
    current = typeof segment === "symbol" || !Object.hasOwn(current, segment) ? undefined : current[segment];
  }
  return current !== undefined;
}

/** The last layer that sets the key at `path` (its value won the merge), or the defaults. */
function provenance(
  layers: readonly Layer[],
  path: readonly PropertyKey[],
): { source: ConfigSource; origin?: string } {
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index];
    if (layer === undefined || !setsPath(layer.value, path)) continue;
    let origin = layer.origin;
    for (let length = path.length; length > 0 && layer.origins !== undefined; length--) {
      const found = layer.origins.get(path.slice(0, length).map(String).join("."));
      if (found !== undefined) {
        origin = found;
        break;
      }
    }
    return origin === undefined ? { source: layer.source } : { source: layer.source, origin };
  }
  return { source: "default" };
}

function issuesFrom(error: z.ZodError, layers: readonly Layer[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        issues.push({
          key: path.map(String).join("."),
          ...provenance(layers, path),
          expected: "no such configuration key",
        });
      }
      continue;
    }
    issues.push({
      key: issue.path.map(String).join(".") || "(root)",
      ...provenance(layers, issue.path),
      expected: issue.message,
    });
  }
  return issues;
}

function parseLayers(layers: readonly Layer[], preIssues: readonly ConfigIssue[]): PavedConfig {
  const merged = layers.reduce<unknown>((acc, layer) => merge(acc, layer.value), {});
  const result = configSchema.safeParse(merged);
  const issues = [...preIssues, ...(result.success ? [] : issuesFrom(result.error, layers))];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  const config = deepFreeze(result.data);
  LOADED.add(config);
  return config;
}

function codeLayer(overrides: PavedConfigInput | undefined): Layer {
  return { source: "code", value: overrides ?? {} };
}

function fileLayer(
  options: LoadConfigOptions,
  env: Readonly<Record<string, string | undefined>>,
): Layer | undefined {
  if (options.file === false) return undefined;
  const cwd = options.cwd ?? process.cwd();
  // An empty PAVED_CONFIG (e.g. `PAVED_CONFIG=` in a compose file) means unset, not "read the directory".
  const fromEnv = env["PAVED_CONFIG"];
  const named = options.file ?? (fromEnv === "" ? undefined : fromEnv);
  const path = resolve(cwd, named ?? DEFAULT_FILE);
  if (named === undefined && !existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new PavedError(
      "ERR_CONFIG_FILE",
      `Cannot read the configuration file ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new PavedError(
      "ERR_CONFIG_FILE",
      `The configuration file ${path} is not valid JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!isPlainObject(value)) {
    throw new ConfigError([{ key: "(root)", source: "file", origin: path, expected: "a JSON object" }]);
  }
  return { source: "file", value, origin: path };
}

/**
 * Loads the configuration: defaults < JSON file < `PAVED_…` environment < `overrides`, parsed once by
 * the schema and frozen. Throws {@link ConfigError} naming every bad key, its source and what is expected.
 *
 * @example
 * const config = await loadConfig({ overrides: { server: { path: "/mcp" } } });
 */
export function loadConfig(options: LoadConfigOptions = {}): Promise<PavedConfig> {
  return new Promise((resolvePromise) => {
    const env = options.env ?? process.env;
    const file = fileLayer(options, env);
    const fromEnv = configFromEnv(configSchema, env);
    const layers: Layer[] = [];
    if (file !== undefined) layers.push(file);
    layers.push({ source: "env", value: fromEnv.value, origins: fromEnv.origins });
    layers.push(codeLayer(options.overrides));
    resolvePromise(parseLayers(layers, fromEnv.issues));
  });
}

/** Parses configuration given in code only (no file, no environment), e.g. in tests. */
export function parseConfig(input: PavedConfigInput = {}): PavedConfig {
  return parseLayers([codeLayer(input)], []);
}

/** Whether `value` came out of {@link loadConfig} or {@link parseConfig} (and so is validated and frozen). */
export function isLoadedConfig(value: unknown): value is PavedConfig {
  return typeof value === "object" && value !== null && LOADED.has(value);
}
