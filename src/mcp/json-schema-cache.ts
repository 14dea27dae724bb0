import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";

type JsonSchemaOptions = Parameters<StandardSchemaWithJSON["~standard"]["jsonSchema"]["input"]>[0];

/**
 * The same Standard Schema with its JSON Schema converted once per direction and target. The SDK
 * converts every tool's schema on every `tools/list` (zod's `toJSONSchema`: most of the CPU of a
 * list of 50 tools), while a Paved tool's schema never changes after the host is built. Validation
 * stays the schema's own; only the conversion is remembered. The SDK copies the root before adding
 * to it and nothing mutates a listed schema, so sharing one result is safe.
 */
export function withCachedJsonSchema<Input, Output>(
  schema: StandardSchemaWithJSON<Input, Output>,
): StandardSchemaWithJSON<Input, Output> {
  const standard = schema["~standard"];
  const converted = new Map<string, Record<string, unknown>>();
  const convert =
    (io: "input" | "output") =>
    (options: JsonSchemaOptions): Record<string, unknown> => {
      const key = `${io}\u0000${options.target}`;
      let json = converted.get(key);
      if (json === undefined) {
        json = standard.jsonSchema[io](options);
        converted.set(key, json);
      }
      return json;
    };
  return {
    "~standard": {
      version: standard.version,
      vendor: standard.vendor,
      validate: (value) => standard.validate(value),
      jsonSchema: { input: convert("input"), output: convert("output") },
      ...(standard.types !== undefined && { types: standard.types }),
    },
  };
}
