import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createMcpHost, defineTool } from "../../../src/index.js";
import { withCachedJsonSchema } from "../../../src/mcp/json-schema-cache.js";
import { connectClient } from "../../../src/testing/index.js";

const TARGET = { target: "draft-2020-12" } as const;

describe("withCachedJsonSchema", () => {
  it("gives the schema's own JSON Schema, converting it once per direction and target", () => {
    const schema = z.object({ text: z.string().max(10), n: z.number().int().default(3) });
    let conversions = 0;
    const counted: typeof schema = Object.create(schema, {
      "~standard": {
        value: {
          ...schema["~standard"],
          jsonSchema: {
            input: (options: typeof TARGET) => (conversions++, schema["~standard"].jsonSchema.input(options)),
            output: (options: typeof TARGET) => (
              conversions++,
              schema["~standard"].jsonSchema.output(options)
            ),
          },
        },
      },
    });
    const cached = withCachedJsonSchema(counted);
    const input = cached["~standard"].jsonSchema.input(TARGET);
    expect(input).toEqual(schema["~standard"].jsonSchema.input(TARGET));
    expect(cached["~standard"].jsonSchema.input(TARGET)).toBe(input);
    const output = cached["~standard"].jsonSchema.output(TARGET);
    expect(output).toEqual(schema["~standard"].jsonSchema.output(TARGET));
    expect(output).not.toEqual(input); // `n` is optional on input only: the directions stay apart
    expect(cached["~standard"].jsonSchema.output(TARGET)).toBe(output);
    cached["~standard"].jsonSchema.input({ target: "draft-07" });
    expect(conversions).toBe(3);
  });

  it("validates exactly as the schema does", async () => {
    const schema = z.object({ text: z.string().max(3) });
    const cached = withCachedJsonSchema(schema);
    expect(await cached["~standard"].validate({ text: "abc" })).toEqual({ value: { text: "abc" } });
    const refused = await cached["~standard"].validate({ text: "abcd" });
    expect(refused.issues?.[0]?.path).toEqual(["text"]);
    expect(cached["~standard"].vendor).toBe("zod");
  });

  it("serves the same tools/list and the same argument errors through a host", async () => {
    const echo = defineTool({
      name: "echo",
      description: "Echo",
      input: { text: z.string().max(5) },
      output: { echoed: z.string() },
      handler: ({ text }) => ({ echoed: text }),
    });
    const host = createMcpHost({
      config: { telemetry: { auditLog: "off" } },
      server: { name: "t", version: "1" },
      tools: [echo],
      insecureNoAuth: true,
    });
    const client = await connectClient(host);
    try {
      for (let round = 0; round < 2; round++) {
        const { tools } = await client.listTools();
        expect(tools[0]?.inputSchema).toMatchObject({
          type: "object",
          properties: { text: { type: "string", maxLength: 5 } },
          required: ["text"],
        });
        expect(tools[0]?.outputSchema).toMatchObject({ properties: { echoed: { type: "string" } } });
      }
      const ok = await client.callTool({ name: "echo", arguments: { text: "hi" } });
      expect(ok.structuredContent).toEqual({ echoed: "hi" });
      const refused = await client.callTool({ name: "echo", arguments: { text: "too long" } });
      expect(refused.isError).toBe(true);
    } finally {
      await client.close();
      await host.close();
    }
  });
});
