import { PavedError } from "../errors.js";
import type { ToolContext } from "./context.js";
import { defineTool, type SchemaLike, type ToolDefinition, type ToolOptions } from "./definitions.js";

/** `@tool` options: a tool's options without the handler (the method) and with an optional name. */
export type ToolMethodOptions = Omit<
  ToolOptions<SchemaLike | undefined, SchemaLike | undefined>,
  "handler" | "name"
> & {
  /** Default: the method name in snake_case (`getWeather` → `get_weather`). */
  readonly name?: string;
};

type ToolMethod = (args: never, ctx: ToolContext) => unknown;

const REGISTRY = new WeakMap<object, { readonly options: ToolMethodOptions; readonly method: string }>();

const snakeCase = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/**
 * Marks a method as a tool, for teams who prefer the C# shape (`[McpServerTool]` on a class).
 * Methods get `(args, ctx)` with `ctx.user` the caller. Uses standard decorators (TypeScript 5+,
 * without `experimentalDecorators`).
 *
 * @example
 * class WeatherTools {
 *   @tool({ description: "Get weather information for a location", input: { city: z.string() } })
 *   getWeather({ city }: { city: string }, ctx: ToolContext) { return `Sunny in ${city} for ${ctx.user.id}`; }
 * }
 * createMcpHost({ ..., tools: toolsOf(new WeatherTools()) });
 */
export function tool(options: ToolMethodOptions) {
  return function register(method: ToolMethod, context: ClassMethodDecoratorContext): void {
    if (context.kind !== "method" || context.static || typeof context.name !== "string") {
      throw new PavedError("ERR_TOOL_DEFINITION", "@tool applies to named instance methods");
    }
    REGISTRY.set(method, { options, method: context.name });
  };
}

function decoratedMethods(
  prototype: object | null | undefined,
): { name: string; fn: ToolMethod; options: ToolMethodOptions }[] {
  const found: { name: string; fn: ToolMethod; options: ToolMethodOptions }[] = [];
  const seen = new Set<string>();
  for (
    let proto = prototype ?? null;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const fn = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown;
      const entry = typeof fn === "function" ? REGISTRY.get(fn) : undefined;
      if (entry !== undefined)
        found.push({ name: entry.method, fn: fn as ToolMethod, options: entry.options });
    }
  }
  return found;
}

/**
 * The tools of an object whose class has `@tool` methods, bound to that object. Given a class
 * instead, constructs it with no arguments (only when it has `@tool` methods).
 */
export function toolsOf(target: object | (new () => object)): ToolDefinition[] {
  // arrow functions and bound functions have no prototype: nothing to find
  const prototype =
    typeof target === "function"
      ? (target.prototype as object | undefined)
      : (Object.getPrototypeOf(target) as object | null);
  const methods = decoratedMethods(prototype);
  if (methods.length === 0) return [];
  const instance: object = typeof target === "function" ? new (target as new () => object)() : target;
  return methods.map(({ name, fn, options }) =>
    defineTool({
      ...options,
      name: options.name ?? snakeCase(name),
      handler: (args, ctx) => fn.call(instance, args as never, ctx) as never,
    }),
  );
}
