import type { z } from "zod";
import type { ConfigIssue } from "../errors.js";
import { arrayElement, kindOf, objectShape } from "./introspect.js";

/** Variables that configure the loader itself rather than a key. */
const RESERVED = new Set(["PAVED_CONFIG"]);
const PREFIX = "PAVED_";

export interface EnvConfig {
  readonly value: Record<string, unknown>;
  /** Dotted key → the variable that set it. */
  readonly origins: ReadonlyMap<string, string>;
  readonly issues: readonly ConfigIssue[];
}

/** A `Map`, not an object literal: `PAVED_…=constructor` must not find `Object.prototype.constructor`. */
const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["false", false],
  ["1", true],
  ["0", false],
  ["yes", true],
  ["no", false],
  ["on", true],
  ["off", false],
]);

/** Decimal numbers only, as in JSON (plus an optional `+`): `Number()` alone would also take `0x10`, `0b1` and `0o7`. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Converts one variable's text to the value the schema expects; leaves it as text when it cannot, so the schema reports it. */
function convert(schema: z.ZodType, raw: string): unknown {
  const text = raw.trim();
  switch (kindOf(schema)) {
    case "number":
      return DECIMAL.test(text) && Number.isFinite(Number(text)) ? Number(text) : raw;
    case "boolean":
      return BOOLEAN_WORDS.get(text.toLowerCase()) ?? raw;
    case "array": {
      const element = arrayElement(schema);
      if (text.startsWith("[")) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return raw;
        }
      }
      const items = text === "" ? [] : text.split(",").map((item) => item.trim());
      return element === undefined ? items : items.map((item) => convert(element, item));
    }
    case "object":
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return raw;
      }
    default:
      // A map of named entries (`downstream`) has no fixed keys to spell as variables: one JSON object.
      if (text.startsWith("{")) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return raw;
        }
      }
      return raw;
  }
}

function findKey(shape: Record<string, z.ZodType>, segment: string): string | undefined {
  const wanted = segment.toLowerCase();
  return Object.keys(shape).find((key) => key.toLowerCase() === wanted);
}

/**
 * Reads `PAVED_<SECTION>__<KEY>` variables (keys case-insensitive, `__` between levels, array items
 * as `__0`, `__1`, … or one comma-separated / JSON value) into a plain object shaped like the schema.
 */
export function configFromEnv(
  schema: z.ZodType,
  env: Readonly<Record<string, string | undefined>>,
): EnvConfig {
  const value: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const issues: ConfigIssue[] = [];

  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (raw === undefined || !name.toUpperCase().startsWith(PREFIX) || RESERVED.has(name.toUpperCase()))
      continue;
    const segments = name.slice(PREFIX.length).split("__");

    // Resolve the whole name against the schema first, so an unknown key leaves no half-built value behind.
    const steps: { key: string | number; node: z.ZodType }[] = [];
    let node: z.ZodType = schema;
    let unknown: string | undefined;
    for (const segment of segments) {
      let key: string | number | undefined;
      let child: z.ZodType | undefined;
      if (kindOf(node) === "array" && /^\d+$/.test(segment)) {
        key = Number(segment);
        child = arrayElement(node);
      } else {
        const shape = objectShape(node);
        const found = shape === undefined ? undefined : findKey(shape, segment);
        if (shape !== undefined && found !== undefined) {
          key = found;
          child = shape[found];
        }
      }
      if (key === undefined || child === undefined) {
        unknown = [...steps.map((step) => String(step.key)), segment.toLowerCase()].join(".");
        break;
      }
      steps.push({ key, node: child });
      node = child;
    }
    const leaf = steps.at(-1);
    if (unknown !== undefined || leaf === undefined) {
      issues.push({
        key: unknown || name,
        source: "env",
        origin: name,
        expected: "no such configuration key",
      });
      continue;
    }

    let target = value as Record<string | number, unknown>;
    let blocked = false;
    for (let index = 0; index < steps.length - 1; index++) {
      const step = steps[index];
      if (step === undefined) continue;
      const existing = target[step.key];
      if (existing === undefined) {
        const created: Record<string, unknown> | unknown[] = kindOf(step.node) === "array" ? [] : {};
        target[step.key] = created;
        // Items set by index (`__0`, `__1`) make up the whole list: blame a gap in it on this variable.
        const listKey = steps
          .slice(0, index + 1)
          .map((item) => String(item.key))
          .join(".");
        if (Array.isArray(created) && !origins.has(listKey)) origins.set(listKey, name);
        target = created as Record<string | number, unknown>;
      } else if (typeof existing === "object" && existing !== null) {
        target = existing as Record<string | number, unknown>;
      } else {
        // A shorter variable already set this to a non-object (bad JSON): the schema reports that one.
        blocked = true;
        break;
      }
    }
    if (blocked) continue;
    target[leaf.key] = convert(leaf.node, raw);
    origins.set(steps.map((step) => String(step.key)).join("."), name);
  }
  return { value, origins, issues };
}
