// The example of docs/testing.md, kept verbatim: if this test breaks, fix the page too.
import { defineTool, ToolError } from "paved-mcp";
import { connectClient, createTestHost, expectDenied, expectToolResult } from "paved-mcp/testing";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";

// In your project these live in src/tools/ and you import them.
const getWeather = defineTool({
  name: "get_weather",
  description: "Get weather information for a location",
  input: { city: z.string().min(1), country: z.string().length(2).default("US") },
  scopes: ["Weather.Read"],
  roles: ["Weather.Reader"],
  handler: ({ city, country }) => {
    if (city === "Atlantis") throw new ToolError("No weather for Atlantis.");
    return `Weather in ${city}, ${country}: Sunny, 72°F`;
  },
});

const setAlert = defineTool({
  name: "set_alert",
  description: "Set a weather alert for a city",
  input: { city: z.string().min(1) },
  output: { city: z.string(), owner: z.string() },
  scopes: ["Weather.Write"],
  handler: ({ city }, ctx) => ({ city, owner: ctx.user.name ?? ctx.user.id }),
});

const host = createTestHost({ tools: [getWeather, setAlert] });
afterAll(() => host.close());

describe("weather tools", () => {
  it("answers a reader", async () => {
    const token = await host.mintToken({ user: "alice", scopes: ["Weather.Read"] });
    const client = await connectClient(host, { token });
    const result = await client.callTool({ name: "get_weather", arguments: { city: "Oslo" } });
    expectToolResult(result, "Weather in Oslo, US: Sunny, 72°F");
    expectToolResult(await client.callTool({ name: "get_weather", arguments: { city: "Atlantis" } }), {
      isError: true,
      text: "No weather for Atlantis.",
    });
    await client.close();
  });

  it("returns structured output to a writer", async () => {
    const client = await connectClient(host, { token: await host.mintToken({ user: "bob" }) });
    const result = await client.callTool({ name: "set_alert", arguments: { city: "Oslo" } });
    expectToolResult(result, { structured: { city: "Oslo", owner: "Bob Tester" } });
    await client.close();
  });

  it("refuses a reader who writes, naming the scope to step up to", async () => {
    const token = await host.mintToken({ scopes: ["Weather.Read"] });
    const client = await connectClient(host, { token, era: "modern" });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(["get_weather"]); // set_alert is hidden
    await expectDenied(client.callTool({ name: "set_alert", arguments: { city: "Oslo" } }), {
      status: 403,
      scopes: ["Weather.Write"],
    });
    await client.close();
  });

  it("serves a daemon with the app role, and nobody without a token", async () => {
    const daemon = await host.mintToken({ appOnly: true, roles: ["Weather.Reader"] });
    const client = await connectClient(host, { token: daemon });
    expectToolResult(await client.callTool({ name: "get_weather", arguments: { city: "Oslo" } }), /Sunny/);
    await client.close();
    await expectDenied(connectClient(host), { status: 401 });
  });
});
