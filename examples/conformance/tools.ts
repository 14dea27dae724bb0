// The suite exercises the 2025-era push APIs (logging notifications, sampling, elicitation), which
// the SDK deprecates for the 2026-07-28 era only. This fixture serves them in stateful sessions.
/* eslint-disable @typescript-eslint/no-deprecated */
import { ToolError, defineTool } from "paved-mcp";
import { z } from "zod";
import { PNG_BASE64, WAV_BASE64, sleep } from "./data.js";

/**
 * The tools the conformance suite calls, by the exact names, arguments and results of its server
 * scenarios (`tools-*`, `elicitation-*`, `json-schema-2020-12`, `server-sse-polling`). Everything
 * that is not Paved's own API goes through `ctx.mcp`, the SDK's request context.
 */

export const simpleText = defineTool({
  name: "test_simple_text",
  description: "Returns a simple text response",
  handler: () => "This is a simple text response for testing.",
});

export const imageContent = defineTool({
  name: "test_image_content",
  description: "Returns an image (a 1x1 red PNG)",
  handler: () => ({ content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }] }),
});

export const audioContent = defineTool({
  name: "test_audio_content",
  description: "Returns audio content (a minimal WAV)",
  handler: () => ({ content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }] }),
});

export const embeddedResource = defineTool({
  name: "test_embedded_resource",
  description: "Returns an embedded text resource",
  handler: () => ({
    content: [
      {
        type: "resource",
        resource: {
          uri: "test://embedded-resource",
          mimeType: "text/plain",
          text: "This is an embedded resource content.",
        },
      },
    ],
  }),
});

export const multipleContentTypes = defineTool({
  name: "test_multiple_content_types",
  description: "Returns text, an image and an embedded resource in one result",
  handler: () => ({
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: PNG_BASE64, mimeType: "image/png" },
      {
        type: "resource",
        resource: {
          uri: "test://mixed-content-resource",
          mimeType: "application/json",
          text: JSON.stringify({ test: "data", value: 123 }),
        },
      },
    ],
  }),
});

export const withLogging = defineTool({
  name: "test_tool_with_logging",
  sdkContext: true,
  description: "Sends three info log notifications while it runs",
  handler: async (_args, ctx) => {
    const messages = ["Tool execution started", "Tool processing data", "Tool execution completed"];
    for (const [index, message] of messages.entries()) {
      if (index > 0) await sleep(50, ctx.signal);
      await ctx.mcp.mcpReq.log("info", message, "conformance");
    }
    return "Tool with logging executed successfully";
  },
});

export const withProgress = defineTool({
  name: "test_tool_with_progress",
  description: "Reports progress 0, 50 and 100 of 100 while it runs",
  handler: async (_args, ctx) => {
    for (const step of [0, 50, 100]) {
      if (step > 0) await sleep(50, ctx.signal);
      await ctx.progress(step, 100, `Completed step ${step} of 100`);
    }
    return "Tool with progress executed successfully";
  },
});

export const errorHandling = defineTool({
  name: "test_error_handling",
  description: "Always fails with a tool error (isError: true)",
  handler: () => {
    throw new ToolError("This tool intentionally returns an error for testing");
  },
});

export const sampling = defineTool({
  name: "test_sampling",
  sdkContext: true,
  description: "Asks the client's model to answer a prompt (sampling)",
  input: { prompt: z.string().describe("The prompt to send to the LLM") },
  handler: async ({ prompt }, ctx) => {
    const result = await ctx.mcp.mcpReq.requestSampling(
      { messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 100 },
      { signal: ctx.signal },
    );
    const contents = Array.isArray(result.content) ? result.content : [result.content];
    const text = contents.find((item) => item.type === "text");
    return `LLM response: ${text?.type === "text" ? text.text : JSON.stringify(result.content)}`;
  },
});

export const elicitation = defineTool({
  name: "test_elicitation",
  sdkContext: true,
  description: "Asks the user for a username and an email address (form elicitation)",
  input: { message: z.string().describe("The message to show the user") },
  handler: async ({ message }, ctx) => {
    const result = await ctx.mcp.mcpReq.elicitInput(
      {
        mode: "form",
        message,
        requestedSchema: {
          type: "object",
          properties: {
            username: { type: "string", description: "User's response" },
            email: { type: "string", description: "User's email address" },
          },
          required: ["username", "email"],
        },
      },
      { signal: ctx.signal },
    );
    return `User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  },
});

export const elicitationDefaults = defineTool({
  name: "test_elicitation_sep1034_defaults",
  sdkContext: true,
  description: "Elicits a form whose fields carry default values (SEP-1034)",
  handler: async (_args, ctx) => {
    const result = await ctx.mcp.mcpReq.elicitInput(
      {
        mode: "form",
        message: "Please review and update the form fields with defaults",
        requestedSchema: {
          type: "object",
          properties: {
            name: { type: "string", description: "User name", default: "John Doe" },
            age: { type: "integer", description: "User age", default: 30 },
            score: { type: "number", description: "User score", default: 95.5 },
            status: {
              type: "string",
              description: "User status",
              enum: ["active", "inactive", "pending"],
              default: "active",
            },
            verified: { type: "boolean", description: "Verification status", default: true },
          },
          required: [],
        },
      },
      { signal: ctx.signal },
    );
    return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  },
});

export const elicitationEnums = defineTool({
  name: "test_elicitation_sep1330_enums",
  sdkContext: true,
  description: "Elicits a form with the five enum variants of SEP-1330",
  handler: async (_args, ctx) => {
    const result = await ctx.mcp.mcpReq.elicitInput(
      {
        mode: "form",
        message: "Please select options from the enum fields",
        requestedSchema: {
          type: "object",
          properties: {
            untitledSingle: {
              type: "string",
              description: "Select one option",
              enum: ["option1", "option2", "option3"],
            },
            titledSingle: {
              type: "string",
              description: "Select one option with titles",
              oneOf: [
                { const: "value1", title: "First Option" },
                { const: "value2", title: "Second Option" },
                { const: "value3", title: "Third Option" },
              ],
            },
            legacyEnum: {
              type: "string",
              description: "Select one option (legacy)",
              enum: ["opt1", "opt2", "opt3"],
              enumNames: ["Option One", "Option Two", "Option Three"],
            },
            untitledMulti: {
              type: "array",
              description: "Select multiple options",
              minItems: 1,
              maxItems: 3,
              items: { type: "string", enum: ["option1", "option2", "option3"] },
            },
            titledMulti: {
              type: "array",
              description: "Select multiple options with titles",
              minItems: 1,
              maxItems: 3,
              items: {
                anyOf: [
                  { const: "value1", title: "First Choice" },
                  { const: "value2", title: "Second Choice" },
                  { const: "value3", title: "Third Choice" },
                ],
              },
            },
          },
          required: [],
        },
      },
      { signal: ctx.signal },
    );
    return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  },
});

export const reconnection = defineTool({
  name: "test_reconnection",
  sdkContext: true,
  description: "Closes its own SSE stream mid-call; the result arrives when the client resumes (SEP-1699)",
  handler: async (_args, ctx) => {
    // Only offered on stateful streams with an event store (Paved's sessions have one).
    ctx.mcp.http?.closeSSE?.();
    await sleep(100, ctx.signal);
    return "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.";
  },
});

/**
 * SEP-1613: JSON Schema 2020-12 in `tools/list`. The zod schema converts to exactly what the suite
 * checks: `$schema` 2020-12, the address type under `$defs` (its `id`), `additionalProperties: false`.
 */
const address = z
  .object({ street: z.string().optional(), city: z.string().optional() })
  .meta({ id: "address" });

export const jsonSchema202012 = defineTool({
  name: "json_schema_2020_12_tool",
  description: "Tool with JSON Schema 2020-12 features",
  input: z.strictObject({ name: z.string().optional(), address: address.optional() }),
  handler: (args) => `JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`,
});

export const tools = [
  simpleText,
  imageContent,
  audioContent,
  embeddedResource,
  multipleContentTypes,
  withLogging,
  withProgress,
  errorHandling,
  sampling,
  elicitation,
  elicitationDefaults,
  elicitationEnums,
  reconnection,
  jsonSchema202012,
];
