import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectClient } from "../../../src/testing/index.js";
import {
  PavedError,
  createMcpHost,
  definePrompt,
  defineTool,
  tool,
  toolsFrom,
  toolsOf,
  type McpHost,
} from "../../../src/index.js";

let host: McpHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

describe("defineTool", () => {
  it("refuses invalid names, missing descriptions and bad access lists with ERR_TOOL_DEFINITION", () => {
    const handler = () => "x";
    for (const options of [
      { name: "has space", description: "d", handler },
      { name: "", description: "d", handler },
      { name: "x".repeat(129), description: "d", handler },
      { name: "ok", description: " ", handler },
      { name: "ok", description: "d", handler: "nope" },
      { name: "ok", description: "d", handler, scopes: [""] },
      { name: "ok", description: "d", handler, roles: "Admin" },
      { name: "ok", description: "d", handler, sdkContext: "yes" },
    ]) {
      expect(() => defineTool(options as never)).toThrow(PavedError);
      try {
        defineTool(options as never);
      } catch (error) {
        expect((error as PavedError).code).toBe("ERR_TOOL_DEFINITION");
      }
    }
  });

  it("builds the schema once and freezes the definition", () => {
    const definition = defineTool({
      name: "t",
      description: "d",
      input: { a: z.string() },
      handler: ({ a }) => a,
    });
    expect(Object.isFrozen(definition)).toBe(true);
    expect(definition.input).toBeInstanceOf(z.ZodObject);
    const object = z.object({ a: z.string() });
    expect(defineTool({ name: "u", description: "d", input: object, handler: ({ a }) => a }).input).toBe(
      object,
    );
  });

  it("createMcpHost refuses duplicates and foreign objects", () => {
    const a = defineTool({ name: "same", description: "d", handler: () => "" });
    expect(() =>
      createMcpHost({ server: { name: "s", version: "1" }, tools: [a, a], insecureNoAuth: true }),
    ).toThrow(/two tools are named "same"/);
    expect(() =>
      createMcpHost({
        server: { name: "s", version: "1" },
        tools: [{ name: "x" } as never],
        insecureNoAuth: true,
      }),
    ).toThrow(/must come from defineTool/);
    expect(() => createMcpHost({ server: { name: "s", version: "1" } })).toThrow(/no identity configured/);
  });
});

describe("class-based tools", () => {
  // Compiled by tsc with standard decorators (npm run build): the shape users ship.
  const load = async () =>
    (await import(
      new URL("../../../examples/dist/weather/tools/forecast-tools.js", import.meta.url).href
    )) as {
      ForecastTools: new () => object;
    };

  it("turns @tool methods into tools bound to the instance, named in snake_case by default", async () => {
    const { ForecastTools } = await load();
    const tools = toolsOf(new ForecastTools());
    expect(tools.map((definition) => definition.name)).toEqual(["get_forecast"]);
    host = createMcpHost({
      server: { name: "s", version: "1" },
      tools,
      insecureNoAuth: true,
      config: { telemetry: { logLevel: "silent" } },
    });
    const client = await connectClient(host);
    const result = await client.callTool({ name: "get_forecast", arguments: { city: "Oslo", days: 2 } });
    expect(result.content).toEqual([{ type: "text", text: "Forecast for Oslo:\nDay 1: Snow\nDay 2: Sunny" }]);
    await client.close();
  });

  it("constructs a class given instead of an instance, and finds nothing in a plain class", async () => {
    const { ForecastTools } = await load();
    expect(toolsOf(ForecastTools).map((definition) => definition.name)).toEqual(["get_forecast"]);
    expect(toolsOf(class Plain {})).toEqual([]);
  });

  it("refuses @tool on something other than an instance method", () => {
    const decorate = tool({ description: "x" });
    expect(() => decorate(() => "", { kind: "method", static: true, name: "m" } as never)).toThrow(
      /instance methods/,
    );
  });
});

describe("toolsFrom", () => {
  it("loads every tool exported by modules in the folder, recursively, in name order", async () => {
    const tools = await toolsFrom(fileURLToPath(new URL("../../fixtures/tools-folder/", import.meta.url)));
    expect(tools.map((definition) => definition.name)).toEqual(["alpha", "beta"]);
  });

  it("names the folder it cannot read", async () => {
    await expect(toolsFrom("/nonexistent/tools")).rejects.toMatchObject({
      code: "ERR_TOOL_DISCOVERY",
      message: expect.stringContaining("/nonexistent/tools"),
    });
  });
});

describe("prompts and resources errors", () => {
  it("a failing prompt gives a generic JSON-RPC error, never its message", async () => {
    const broken = definePrompt({
      name: "broken",
      description: "fails",
      get: () => {
        throw new Error("secret connection string");
      },
    });
    host = createMcpHost({
      server: { name: "s", version: "1" },
      prompts: [broken],
      insecureNoAuth: true,
      config: { telemetry: { logLevel: "silent" } },
    });
    const client = await connectClient(host, { era: "modern" });
    const error = await client.getPrompt({ name: "broken" }).catch((caught: unknown) => caught as Error);
    expect((error as Error).message).toMatch(/failed unexpectedly\. Reference: /);
    expect((error as Error).message).not.toContain("secret");
    await client.close();
  });
});
