import { defineTool } from "paved-mcp";
import { z } from "zod";

/** The seed's tool, as a Paved tool: the caller needs the Weather.Read scope (or the Weather.Reader role). */
export const getWeather = defineTool({
  name: "get_weather",
  description: "Get weather information for a location",
  input: {
    city: z.string().min(1).max(100).describe("City name"),
    country: z.string().length(2).default("US").describe("Country code"),
  },
  annotations: { readOnlyHint: true },
  scopes: ["Weather.Read"],
  roles: ["Weather.Reader"],
  handler: ({ city, country }) => `Weather in ${city}, ${country}: Sunny, 72°F`,
});
