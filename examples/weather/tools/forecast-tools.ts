import { tool, type ToolContext } from "paved-mcp";
import { z } from "zod";

/**
 * Class-based tools, for teams used to the C# shape (`[McpServerToolType]` with `[McpServerTool]`
 * methods): each `@tool` method becomes a tool; `toolsFrom` constructs the class and binds them.
 */
export class ForecastTools {
  private readonly outlook = ["Sunny", "Cloudy", "Rain", "Windy", "Snow"];

  @tool({
    description: "Get a multi-day forecast for a city",
    input: {
      city: z.string().min(1).max(100).describe("City name"),
      days: z.number().int().min(1).max(5).default(3),
    },
    annotations: { readOnlyHint: true },
  })
  getForecast({ city, days }: { city: string; days: number }, ctx: ToolContext): string {
    const lines = Array.from(
      { length: days },
      (_, day) => `Day ${day + 1}: ${this.outlook[(city.length + day) % this.outlook.length]}`,
    );
    ctx.log.debug({ city, days }, "forecast served");
    return `Forecast for ${city}:\n${lines.join("\n")}`;
  }
}
