import type {
  CallToolResult,
  GetPromptResult,
  ReadResourceResult,
  ServerContext,
} from "@modelcontextprotocol/server";
import type { Client } from "@modelcontextprotocol/client";
import type { Logger } from "pino";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  definePrompt,
  defineResource,
  defineTool,
  ResourceTemplate,
  type Infer,
  type McpHost,
  type Principal,
  type PromptDefinition,
  type ResourceDefinition,
  type ToolContext,
  type ToolDefinition,
  type ToolReturn,
} from "../../src/index.js";
import {
  connectClient,
  createTestHost,
  expectDenied,
  expectToolResult,
  mintToken,
  type Denial,
  type TestHost,
} from "../../src/testing/index.js";

const ANONYMOUS_LIKE: Principal = { id: "x", scopes: [], roles: [], isAppOnly: false, claims: {} };

describe("defineTool: the return type comes from the output schema", () => {
  it("maps an output shape to the structured value, or a full MCP result", () => {
    const _output = { sum: z.number(), note: z.string().optional() };
    expectTypeOf<ToolReturn<typeof _output>>().toEqualTypeOf<
      { sum: number; note?: string | undefined } | CallToolResult
    >();
    expectTypeOf<ToolReturn<z.ZodObject<{ ok: z.ZodBoolean }>>>().toEqualTypeOf<
      { ok: boolean } | CallToolResult
    >();
    // Without an output schema: text, a full result, or any object (sent as JSON text).
    expectTypeOf<ToolReturn<undefined>>().toEqualTypeOf<string | CallToolResult | object>();
  });

  it("accepts the structured value, sync or async, and a full result", () => {
    const output = { sum: z.number() };
    expectTypeOf(
      defineTool({ name: "t", description: "d", output, handler: () => ({ sum: 1 }) }),
    ).toEqualTypeOf<ToolDefinition>();
    defineTool({ name: "t", description: "d", output, handler: async () => Promise.resolve({ sum: 1 }) });
    defineTool({
      name: "t",
      description: "d",
      output,
      handler: () => ({ content: [{ type: "text", text: "1" }], structuredContent: { sum: 1 } }),
    });
  });

  it("does not compile a handler whose result breaks the output schema", () => {
    defineTool({
      name: "t",
      description: "d",
      output: { sum: z.number() },
      // @ts-expect-error a required member is missing
      handler: () => ({}),
    });
    defineTool({
      name: "t",
      description: "d",
      output: z.object({ sum: z.number() }),
      // @ts-expect-error the async result has the wrong type
      handler: async () => Promise.resolve({ sum: "1" }),
    });
    defineTool({
      name: "t",
      description: "d",
      // @ts-expect-error a number is neither text, a result nor an object
      handler: () => 42,
    });
  });

  it("does not compile a handler that expects more than it is given", () => {
    defineTool({
      name: "t",
      description: "d",
      input: { city: z.string() },
      // @ts-expect-error the context is a ToolContext, not a string
      handler: (_args, ctx: string) => ctx,
    });
    defineTool({
      name: "t",
      description: "d",
      input: { days: z.number().default(3) },
      handler: ({ days }) => {
        expectTypeOf(days).toEqualTypeOf<number>(); // the default applied: never undefined
        return String(days);
      },
    });
    // @ts-expect-error input must be a zod object or shape
    defineTool({ name: "t", description: "d", input: { city: "string" }, handler: () => "x" });
    // @ts-expect-error description is required
    defineTool({ name: "t", handler: () => "x" });
  });

  it("Infer gives a handler's argument type to helpers written outside defineTool", () => {
    const _input = { city: z.string(), units: z.enum(["metric", "imperial"]).default("metric") };
    expectTypeOf<Infer<typeof _input>>().toEqualTypeOf<{ city: string; units: "metric" | "imperial" }>();
    expectTypeOf<Infer<undefined>>().toEqualTypeOf<Record<string, never>>();
  });
});

describe("ToolContext", () => {
  it("has exactly the members handlers rely on", () => {
    expectTypeOf<ToolContext["user"]>().toEqualTypeOf<Principal>();
    expectTypeOf<ToolContext["signal"]>().toEqualTypeOf<AbortSignal>();
    expectTypeOf<ToolContext["requestId"]>().toEqualTypeOf<string>();
    expectTypeOf<ToolContext["sessionId"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ToolContext["log"]>().toEqualTypeOf<Logger>();
    expectTypeOf<ToolContext["mcp"]>().toEqualTypeOf<ServerContext>();
    expectTypeOf<ToolContext["progress"]>().toEqualTypeOf<
      (progress: number, total?: number, message?: string) => Promise<void>
    >();
  });

  it("describes the caller with validated claims only, read-only", () => {
    expectTypeOf<Principal["id"]>().toEqualTypeOf<string>();
    expectTypeOf<Principal["tenantId"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Principal["scopes"]>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<Principal["roles"]>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<Principal["isAppOnly"]>().toEqualTypeOf<boolean>();
    expectTypeOf<Principal["claims"]>().toEqualTypeOf<Readonly<Record<string, unknown>>>();
    defineTool({
      name: "t",
      description: "d",
      handler: (_args, ctx) => {
        // @ts-expect-error the principal is read-only
        ctx.user = ANONYMOUS_LIKE;
        // @ts-expect-error scopes cannot be added to
        // eslint-disable-next-line @typescript-eslint/no-unsafe-call
        ctx.user.scopes.push("Admin");
        return ctx.user.id;
      },
    });
  });
});

describe("defineResource and definePrompt", () => {
  it("types a resource's read callback", () => {
    const resource = defineResource({
      name: "users",
      uri: new ResourceTemplate("users://{id}", { list: undefined }),
      read: (uri, ctx, variables) => {
        expectTypeOf(uri).toEqualTypeOf<URL>();
        expectTypeOf(ctx).toEqualTypeOf<ToolContext>();
        expectTypeOf(variables).toEqualTypeOf<Readonly<Record<string, string | string[]>>>();
        return `user ${String(variables["id"])}`;
      },
    });
    expectTypeOf(resource).toEqualTypeOf<ResourceDefinition>();
    defineResource({
      name: "r",
      uri: "docs://r",
      read: (uri): Promise<ReadResourceResult> =>
        Promise.resolve({ contents: [{ uri: uri.href, text: "x" }] }),
    });
    // @ts-expect-error a resource returns text or a ReadResourceResult
    defineResource({ name: "r", uri: "docs://r", read: () => 42 });
    // @ts-expect-error the URI is a string or a ResourceTemplate
    defineResource({ name: "r", uri: 42, read: () => "x" });
  });

  it("infers a prompt's arguments from its shape", () => {
    const prompt = definePrompt({
      name: "greet",
      args: { name: z.string(), tone: z.string().optional() },
      get: (args, ctx) => {
        expectTypeOf(args).toEqualTypeOf<{ name: string; tone?: string | undefined }>();
        expectTypeOf(ctx).toEqualTypeOf<ToolContext>();
        return `Say hello to ${args.name}`;
      },
    });
    expectTypeOf(prompt).toEqualTypeOf<PromptDefinition>();
    definePrompt({
      name: "p",
      get: (args): GetPromptResult => {
        expectTypeOf(args).toEqualTypeOf<Record<string, never>>();
        return { messages: [{ role: "user", content: { type: "text", text: "hi" } }] };
      },
    });
    definePrompt({
      name: "p",
      args: { name: z.string() },
      // @ts-expect-error no such argument
      // eslint-disable-next-line @typescript-eslint/no-unsafe-return
      get: (args) => args.nickname,
    });
    // @ts-expect-error a prompt returns text or a GetPromptResult
    definePrompt({ name: "p", get: () => 42 });
  });
});

describe("paved-mcp/testing", () => {
  it("types the helpers", () => {
    expectTypeOf(createTestHost).returns.toEqualTypeOf<TestHost>();
    expectTypeOf<TestHost>().toExtend<McpHost>();
    expectTypeOf(mintToken).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(connectClient).returns.toEqualTypeOf<Promise<Client>>();
    expectTypeOf(expectToolResult).returns.toEqualTypeOf<string>();
    expectTypeOf(expectDenied).returns.toEqualTypeOf<Promise<Denial>>();
    // @ts-expect-error appOnly is a boolean
    void mintToken({ appOnly: "yes" });
    // @ts-expect-error the identity is set with `azureAd`, not config
    createTestHost({ config: { azureAd: { tenantId: "organizations", clientId: "x" } } });
  });
});
