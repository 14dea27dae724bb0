import type { z } from "zod";

/** The handful of zod node kinds the config walker needs to tell apart. */
export type LeafKind = "string" | "number" | "boolean" | "enum" | "array" | "object" | "other";

type AnySchema = z.ZodType;

interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
  shape?: Record<string, AnySchema>;
  entries?: Record<string, string>;
  defaultValue?: unknown;
}

const defOf = (schema: AnySchema): Def => (schema as unknown as { def: Def }).def;

/** Strips optional/default/prefault/nullable/pipe wrappers down to the node that holds the type. */
export function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === "pipe" && def.in !== undefined) current = def.in;
    else return current;
  }
}

export function kindOf(schema: AnySchema): LeafKind {
  const type = defOf(unwrap(schema)).type;
  switch (type) {
    case "string":
    case "number":
    case "boolean":
    case "enum":
    case "array":
    case "object":
      return type;
    default:
      return "other";
  }
}

export function objectShape(schema: AnySchema): Record<string, AnySchema> | undefined {
  return defOf(unwrap(schema)).shape;
}

export function arrayElement(schema: AnySchema): AnySchema | undefined {
  return defOf(unwrap(schema)).element;
}

export function enumValues(schema: AnySchema): string[] {
  return Object.values(defOf(unwrap(schema)).entries ?? {});
}

/** The default a key takes when no source sets it, or `undefined`. */
export function defaultOf(schema: AnySchema): unknown {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.type === "default") {
      const value = def.defaultValue;
      return typeof value === "function" ? (value as () => unknown)() : value;
    }
    if (def.innerType === undefined) return undefined;
    current = def.innerType;
  }
}

export function isOptional(schema: AnySchema): boolean {
  return (schema as unknown as { _zod: { optin?: string } })._zod.optin === "optional";
}
