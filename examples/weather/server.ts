import { createMcpHost, loadConfig, toolsFrom } from "paved-mcp";

/**
 * The example behind `npm start`. Configuration comes from paved.config.json and PAVED_…
 * variables (under `paved dev`, those point at the built-in development identity provider);
 * tools from every module in ./tools.
 */
export default createMcpHost({
  config: await loadConfig(),
  server: { name: "weather", title: "Weather", version: "1.0.0" },
  instructions: "Weather for any city. Call get_weather with a city name.",
  tools: await toolsFrom(new URL("./tools/", import.meta.url)),
});
