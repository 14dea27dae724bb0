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

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true, false: false, "1": true, "0": false, yes: true, no: false, on: true, off: false,
};

/** Converts one variable's text to the value the schema expects; leaves it as text when it cannot, so the schema reports it. */
function convert(schema: z.ZodType, raw: string): unknown {
  const text = raw.trim();
  switch (kindOf(schema)) {
    case "number":
      return text !== "" && Number.isFinite(Number(text)) ? Number(text) : raw;
    case "boolean":
      return BOOLEAN_WORDS[text.toLowerCase()] ?? raw;
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
export function configFromEnv(schema: z.ZodType, env: Readonly<Record<string, string | undefined>>): EnvConfig {
  const value: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const issues: ConfigIssue[] = [];

  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (raw === undefined || !name.toUpperCase().startsWith(PREFIX) || RESERVED.has(name.toUpperCase())) continue;
    const segments = name.slice(PREFIX.length).split("__");
    let node: z.ZodType = schema;
    let target: Record<string, unknown> | unknown[] = value;
    const path: string[] = [];
    let failed = false;

    for (let index = 0; index < segments.length; index++) {
      const segment = segments[index] ?? "";
      const last = index === segments.length - 1;
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
        issues.push({
          key: [...path, segment.toLowerCase()].join(".") || name,
          source: "env",
          origin: name,
          expected: "no such configuration key",
        });
        failed = true;
        break;
      }
      path.push(String(key));
      if (last) {
        (target as Record<string | number, unknown>)[key] = convert(child, raw);
      } else {
        const existing = (target as Record<string | number, unknown>)[key];
        const next = existing ?? (kindOf(child) === "array" ? [] : {});
        (target as Record<string | number, unknown>)[key] = next;
        target = next as Record<string, unknown> | unknown[];
        node = child;
      }
    }
    if (!failed) origins.set(path.join("."), name);
  }
  return { value, origins, issues };
}
