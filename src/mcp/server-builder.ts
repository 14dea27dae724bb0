import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
  type GetPromptResult,
  type Implementation,
  type InputRequiredResult,
  type ReadResourceResult,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { DownstreamServices } from "../downstream/fetch.js";
import { ToolError } from "../errors.js";
import type { RequestStateSealer } from "../state/request-state.js";
import { withCachedJsonSchema } from "./json-schema-cache.js";
import {
  createToolContext,
  stateOf,
  type RequestState,
  type StateSealer,
  type ToolContext,
} from "./context.js";
import { failure, invokeTool } from "./tool-call.js";
import type { PromptDefinition, ResourceDefinition, ToolDefinition } from "./definitions.js";

/** The 2026-07-28 revision: no handshake, every request carries its own `_meta` envelope. */
export const MODERN_PROTOCOL_VERSION = "2026-07-28";

/** What the `factory` escape hatch is told about the server it is given. */
export interface FactoryInfo {
  /**
   * `modern`: serves 2026-07-28 requests (no sessions, no server-to-client requests);
   * `legacy`: serves 2025-era requests, statelessly or (in stateful mode) one session.
   */
  readonly era: "modern" | "legacy";
}

export interface Catalog {
  readonly tools: readonly ToolDefinition[];
  readonly resources: readonly ResourceDefinition[];
  readonly prompts: readonly PromptDefinition[];
  /** Escape hatch: registers anything else straight on each SDK server instance Paved builds. */
  readonly factory: ((server: McpServer, info: FactoryInfo) => void) | undefined;
}

export interface BuildOptions {
  readonly serverInfo: Implementation;
  readonly instructions: string | undefined;
  /** Modern instances also list 2026-07-28, which installs `server/discover` and lets them bind to it. */
  readonly era: "modern" | "legacy";
  /** Used when a handler runs without Paved's request state (it always has it on Paved's paths). */
  readonly fallbackState: RequestState;
  /**
   * Seals and verifies 2026-07-28 `requestState` with the replicas' shared key ring; tampered,
   * expired or foreign state is refused by the SDK with JSON-RPC `-32602` before a handler runs.
   */
  readonly requestState: RequestStateSealer;
  /** What `ctx.downstream` calls through (configured APIs, the on-behalf-of token provider). */
  readonly downstream?: DownstreamServices;
}

function registerTool(
  server: McpServer,
  tool: ToolDefinition,
  fallback: RequestState,
  seal: StateSealer,
  downstream?: DownstreamServices,
): void {
  const withheld = tool.sdkContext ? undefined : tool.name;
  const call = (
    args: Record<string, unknown>,
    sdk: ServerContext,
  ): Promise<CallToolResult | InputRequiredResult> =>
    invokeTool(tool, args, createToolContext({ sdk }, stateOf(sdk) ?? fallback, seal, downstream, withheld));
  const config = {
    ...(tool.title !== undefined && { title: tool.title }),
    description: tool.description,
    ...(tool.output !== undefined && { outputSchema: withCachedJsonSchema(tool.output) }),
    ...(tool.annotations !== undefined && { annotations: tool.annotations }),
  };
  if (tool.input === undefined) {
    server.registerTool(tool.name, config, (sdk: ServerContext) => call({}, sdk));
  } else {
    server.registerTool(
      tool.name,
      { ...config, inputSchema: withCachedJsonSchema(tool.input) },
      (args: Record<string, unknown>, sdk) => call(args, sdk),
    );
  }
}

/** Errors other than the SDK's own protocol errors become a generic JSON-RPC error: nothing internal leaks. */
function protocolFailure(error: unknown, ctx: ToolContext, what: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof ToolError) return new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
  return new ProtocolError(ProtocolErrorCode.InternalError, failure(error, ctx, what));
}

function registerResource(
  server: McpServer,
  resource: ResourceDefinition,
  fallback: RequestState,
  seal: StateSealer,
  downstream?: DownstreamServices,
): void {
  const read = async (
    uri: URL,
    variables: Record<string, string | string[]>,
    sdk: ServerContext,
  ): Promise<ReadResourceResult> => {
    const ctx = createToolContext({ sdk }, stateOf(sdk) ?? fallback, seal, downstream);
    try {
      const value = await resource.read(uri, ctx, variables);
      if (typeof value !== "string") return value;
      return { contents: [{ uri: uri.href, mimeType: resource.mimeType ?? "text/plain", text: value }] };
    } catch (error) {
      throw protocolFailure(error, ctx, `Resource "${resource.name}"`);
    }
  };
  const metadata = {
    ...(resource.title !== undefined && { title: resource.title }),
    ...(resource.description !== undefined && { description: resource.description }),
    ...(resource.mimeType !== undefined && { mimeType: resource.mimeType }),
  };
  if (typeof resource.uri === "string") {
    server.registerResource(resource.name, resource.uri, metadata, (uri, sdk) => read(uri, {}, sdk));
  } else {
    server.registerResource(resource.name, resource.uri, metadata, (uri, variables, sdk) =>
      read(uri, variables, sdk),
    );
  }
}

function registerPrompt(
  server: McpServer,
  prompt: PromptDefinition,
  fallback: RequestState,
  seal: StateSealer,
  downstream?: DownstreamServices,
): void {
  const get = async (args: Record<string, unknown>, sdk: ServerContext): Promise<GetPromptResult> => {
    const ctx = createToolContext({ sdk }, stateOf(sdk) ?? fallback, seal, downstream);
    try {
      const value = await prompt.get(args, ctx);
      if (typeof value !== "string") return value as GetPromptResult;
      return { messages: [{ role: "user", content: { type: "text", text: value } }] };
    } catch (error) {
      throw protocolFailure(error, ctx, `Prompt "${prompt.name}"`);
    }
  };
  const config = {
    ...(prompt.title !== undefined && { title: prompt.title }),
    ...(prompt.description !== undefined && { description: prompt.description }),
  };
  if (prompt.args === undefined) {
    server.registerPrompt(prompt.name, config, (sdk: ServerContext) => get({}, sdk));
  } else {
    server.registerPrompt(
      prompt.name,
      { ...config, argsSchema: prompt.args },
      (args: Record<string, unknown>, sdk) => get(args, sdk),
    );
  }
}

/** One SDK server with the whole catalog registered. Built at start-up (and per session in stateful mode), never per request. */
export function buildMcpServer(catalog: Catalog, options: BuildOptions): McpServer {
  const sealer = options.requestState;
  const server = new McpServer(options.serverInfo, {
    ...(options.instructions !== undefined && { instructions: options.instructions }),
    ...(options.era === "modern" && {
      supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION],
    }),
    requestState: { verify: (state, ctx) => sealer.verify(state, ctx) },
  });
  const seal: StateSealer = (payload, ctx) => sealer.mint(payload, ctx);
  const { downstream } = options;
  for (const tool of catalog.tools) registerTool(server, tool, options.fallbackState, seal, downstream);
  for (const resource of catalog.resources)
    registerResource(server, resource, options.fallbackState, seal, downstream);
  for (const prompt of catalog.prompts)
    registerPrompt(server, prompt, options.fallbackState, seal, downstream);
  catalog.factory?.(server, { era: options.era });
  return server;
}
