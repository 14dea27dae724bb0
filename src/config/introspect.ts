import type { z } from "zod";

/** The handful of zod node kinds the config walker needs to tell apart. */
export type LeafKind = "string" | "number" | "boolean" | "enum" | "array" | "object" | "other";

type AnySchema = z.ZodType;

interface CheckDef {
  check: string;
  value?: unknown;
  inclusive?: boolean;
  minimum?: unknown;
  maximum?: unknown;
  format?: string;
  error?: unknown;
  /** Where a `.refine(…, { path })` on an object reports its issue, relative to the object. */
  path?: readonly PropertyKey[];
}

interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
  shape?: Record<string, AnySchema>;
  entries?: Record<string, string>;
  /** `z.literal(…)`: the allowed values. */
  values?: readonly unknown[];
  /** `z.union([…])`: the alternatives. */
  options?: readonly AnySchema[];
  defaultValue?: unknown;
  checks?: readonly { _zod: { def: CheckDef } }[];
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

/**
 * What kind of value a node holds. A literal or a union counts as the kind all of its alternatives
 * share (`1 | 2` is a number; a GUID string or `"common"` is a string), so the environment converts
 * its text the same way; a mix of kinds is `other`.
 */
export function kindOf(schema: AnySchema): LeafKind {
  const def = defOf(unwrap(schema));
  switch (def.type) {
    case "string":
    case "number":
    case "boolean":
    case "enum":
    case "array":
    case "object":
      return def.type;
    case "literal": {
      const types = new Set((def.values ?? []).map((value) => typeof value));
      if (types.size !== 1) return "other";
      if (types.has("number")) return "number";
      if (types.has("boolean")) return "boolean";
      return types.has("string") ? "enum" : "other";
    }
    case "union": {
      const kinds = new Set((def.options ?? []).map(kindOf));
      if (kinds.size === 1) return [...kinds][0] ?? "other";
      // Free text and fixed words together are still text.
      return kinds.size === 2 && kinds.has("string") && kinds.has("enum") ? "string" : "other";
    }
    default:
      return "other";
  }
}

/** The alternatives of a union (after {@link unwrap}), or `undefined` for any other node. */
export function unionOptions(schema: AnySchema): readonly AnySchema[] | undefined {
  const def = defOf(unwrap(schema));
  return def.type === "union" ? (def.options ?? []) : undefined;
}

/**
 * The fixed values a node allows: those of an enum, a literal, or a union made only of these;
 * `undefined` when it also takes other values.
 */
export function choicesOf(schema: AnySchema): readonly (string | number | boolean)[] | undefined {
  const def = defOf(unwrap(schema));
  const primitive = (value: unknown): value is string | number | boolean =>
    typeof value === "string" || typeof value === "number" || typeof value === "boolean";
  switch (def.type) {
    case "enum":
      return Object.values(def.entries ?? {});
    case "literal":
      return (def.values ?? []).every(primitive)
        ? (def.values as readonly (string | number | boolean)[])
        : undefined;
    case "union": {
      const all: (string | number | boolean)[] = [];
      for (const option of def.options ?? []) {
        const choices = choicesOf(option);
        if (choices === undefined) return undefined;
        for (const choice of choices) if (!all.includes(choice)) all.push(choice);
      }
      return all;
    }
    default:
      return undefined;
  }
}

export function objectShape(schema: AnySchema): Record<string, AnySchema> | undefined {
  return defOf(unwrap(schema)).shape;
}

export function arrayElement(schema: AnySchema): AnySchema | undefined {
  return defOf(unwrap(schema)).element;
}

/** The allowed values of an enum (or of a literal or union of literals), as text. */
export function enumValues(schema: AnySchema): string[] {
  return (choicesOf(schema) ?? []).map(String);
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

const optinOf = (schema: AnySchema): string | undefined =>
  (schema as unknown as { _zod: { optin?: string } })._zod.optin;

/** Whether the key may be left out and then stays absent (`.optional()`, not `.default()`). */
export function isOptional(schema: AnySchema): boolean {
  return optinOf(schema) === "optional";
}

/** Whether the key must be given: it is neither optional nor filled in by a default or prefault. */
export function isRequired(schema: AnySchema): boolean {
  return optinOf(schema) === undefined;
}

/** One validation rule of a node, reduced to what the documentation needs. */
export interface CheckInfo {
  /** zod's check name: `greater_than`, `less_than`, `min_length`, `max_length`, `number_format`, `string_format`, `custom`, … */
  readonly check: string;
  /** The bound of a range or length check. */
  readonly value?: number;
  /** Whether the bound itself is allowed (range checks). */
  readonly inclusive?: boolean;
  /** `safeint`, `int32`, `regex`, `email`, … for format checks. */
  readonly format?: string;
  /** The schema's own message for the rule (`{ message }` of `.regex()` or `.refine()`), when it has one. */
  readonly message?: string;
  /** Where a refinement reports its issue, relative to the node (`.refine(…, { path })`), when it says. */
  readonly path?: readonly string[];
}

function staticMessage(error: unknown): string | undefined {
  if (typeof error === "string") return error;
  if (typeof error !== "function") return undefined;
  try {
    const message: unknown = (error as () => unknown)();
    return typeof message === "string" ? message : undefined;
  } catch {
    return undefined;
  }
}

/** The rules on the node that holds the type (after {@link unwrap}), in declaration order. */
export function checksOf(schema: AnySchema): CheckInfo[] {
  return (defOf(unwrap(schema)).checks ?? []).map(({ _zod: { def } }) => {
    const bound = def.value ?? def.minimum ?? def.maximum;
    const message = staticMessage(def.error);
    return {
      check: def.check,
      ...(typeof bound === "number" ? { value: bound } : {}),
      ...(def.inclusive === undefined ? {} : { inclusive: def.inclusive }),
      ...(def.format === undefined ? {} : { format: def.format }),
      ...(message === undefined ? {} : { message }),
      ...(def.path === undefined ? {} : { path: def.path.map(String) }),
    };
  });
}

/**
 * `.describe()` and `.meta()` data of a key. Each is read from the outermost wrapper that has it, so
 * `.describe()` after `.default()` wins, and an object described before `.optional()` keeps its text.
 */
export function metaOf(schema: AnySchema): { readonly description?: string; readonly example?: unknown } {
  let description: string | undefined;
  let example: { readonly value: unknown } | undefined;
  let current: AnySchema | undefined = schema;
  while (current !== undefined && (description === undefined || example === undefined)) {
    const meta: Record<string, unknown> = current.meta() ?? {};
    const text = meta["description"];
    if (description === undefined && typeof text === "string") description = text;
    if (example === undefined && "example" in meta) example = { value: meta["example"] };
    const def = defOf(current);
    current = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
  }
  return {
    ...(description === undefined ? {} : { description }),
    ...(example === undefined ? {} : { example: example.value }),
  };
}
