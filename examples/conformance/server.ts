import { createMcpHost } from "paved-mcp";
import { registerExtras } from "./extras.js";
import { prompts } from "./prompts.js";
import { resources } from "./resources.js";
import { tools } from "./tools.js";

/**
 * The fixture behind `npm run conformance`: every tool, resource and prompt the server scenarios of
 * the MCP conformance suite (@modelcontextprotocol/conformance) expect, served by Paved in its
 * opt-in stateful mode (sampling, elicitation and resumable SSE streams need sessions).
 *
 *   npm run build && node dist/cli/main.js dev examples/dist/conformance/server.js
 */
export default createMcpHost({
  config: { server: { stateless: false } },
  server: { name: "paved-conformance", version: "1.0.0" },
  instructions: "Conformance test fixture: the tools, resources and prompts of the MCP conformance suite.",
  tools,
  resources,
  prompts,
  factory: registerExtras,
  // The suite cannot send credentials. Development only: `paved start` refuses to serve this host.
  insecureNoAuth: true,
});
