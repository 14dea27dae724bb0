import {
  SERVER_INFO_META_KEY,
  isInputRequiredResult,
  type CallToolResult,
  type Implementation,
  type JSONRPCRequest,
  type McpServer,
} from "@modelcontextprotocol/server";
import type { DownstreamServices } from "../downstream/fetch.js";
import { createToolContext, NEEDS_SDK, type DirectCall, type RequestState } from "./context.js";
import type { ToolDefinition } from "./definitions.js";
import { invokeTool } from "./tool-call.js";

/** The parameters a direct call may carry; any other (`task`, `requestState`, `inputResponses`, …) is the SDK's. */
const DIRECT_PARAMS = new Set(["name", "arguments", "_meta"]);

/** The JSON Schema draft the SDK converts tool schemas to. */
const JSON_SCHEMA_TARGET = "draft-2020-12";

type Json = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The SDK's wording of schema issues (`path.to.key: message, …`), for output validation errors. */
function describeIssues(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
): string {
  return issues
    .map((issue) =>
      issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`,
    )
    .join(", ");
}

/**
 * The tool's arguments, or `undefined` when the SDK must answer: the schema refuses them (the SDK
 * words that error), or cannot decide synchronously (an async refinement), or throws.
 */
function parseArguments(schema: NonNullable<ToolDefinition["input"]>, value: unknown): Json | undefined {
  try {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const toolError = (text: string): CallToolResult => ({ content: [{ type: "text", text }], isError: true });

/**
 * Pipeline stage 11's direct lane: a `tools/call` of a Paved tool answered without the SDK's
 * per-request machinery (its message-shape checks, request context, abort controller and result
 * re-validation cost about half the CPU of a call). The client receives the response the SDK would
 * send (test/integration/direct-calls.test.ts compares the two lanes in both eras); everything the lane does not cover goes to the SDK before the handler runs: tools with
 * `sdkContext`, progress tokens, multi-round-trip parameters, arguments the tool's schema refuses
 * (the SDK words that error). A tool that returns `inputRequired` or seals state is handed to the
 * SDK too, for that call and from then on.
 */
export class DirectToolCalls {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly outputSchemas = new Map<string, Json>();
  private readonly viaSdk = new Set<string>();
  private readonly serverInfo: Implementation;
  private readonly serverInfoMeta: Readonly<Json>;
  private readonly downstream: DownstreamServices | undefined;

  constructor(tools: readonly ToolDefinition[], serverInfo: Implementation, downstream?: DownstreamServices) {
    for (const tool of tools) {
      if (tool.sdkContext) continue;
      this.tools.set(tool.name, tool);
      if (tool.output !== undefined)
        this.outputSchemas.set(
          tool.name,
          tool.output["~standard"].jsonSchema.output({ target: JSON_SCHEMA_TARGET }),
        );
    }
    this.serverInfo = serverInfo;
    this.serverInfoMeta = Object.freeze({ [SERVER_INFO_META_KEY]: serverInfo });
    this.downstream = downstream;
  }

  /** The tool, when this request may take the direct lane. */
  toolFor(message: JSONRPCRequest): ToolDefinition | undefined {
    if (message.method !== "tools/call" || this.tools.size === 0) return undefined;
    const params = message.params;
    if (!isPlainObject(params)) return undefined;
    for (const key in params) if (!DIRECT_PARAMS.has(key)) return undefined;
    const name = params["name"];
    if (typeof name !== "string" || this.viaSdk.has(name)) return undefined;
    const args = params["arguments"];
    const meta = params["_meta"];
    if (args !== undefined && !isPlainObject(args)) return undefined;
    if (meta !== undefined && (!isPlainObject(meta) || "progressToken" in meta)) return undefined;
    return this.tools.get(name);
  }

  /**
   * The call's result as the era's wire carries it, or `undefined` when the SDK must answer the
   * request after all (nothing has been sent).
   */
  async call(
    tool: ToolDefinition,
    message: JSONRPCRequest,
    era: "modern" | "legacy",
    server: McpServer,
    state: RequestState,
    direct: DirectCall,
  ): Promise<Json | undefined> {
    let args: Json = {};
    if (tool.input !== undefined) {
      const parsed = parseArguments(tool.input, (message.params as Json)["arguments"] ?? {});
      if (parsed === undefined) return undefined;
      args = parsed;
    }
    const ctx = createToolContext({ direct }, state, undefined, this.downstream, tool.name);
    let result;
    try {
      result = await invokeTool(tool, args, ctx);
    } catch (error) {
      if (error !== NEEDS_SDK) throw error;
      this.viaSdk.add(tool.name);
      return undefined;
    }
    if (isInputRequiredResult(result)) {
      this.viaSdk.add(tool.name);
      return undefined;
    }
    let shaped: Json;
    try {
      const checked = this.checkOutput(tool, result);
      shaped =
        checked === result
          ? server.server.projectCallToolResult(result, this.outputSchemas.get(tool.name))
          : checked;
    } catch (error) {
      // As `McpServer`'s tools/call handler: whatever throws while shaping the result is a tool error.
      shaped = toolError(error instanceof Error ? error.message : String(error));
    }
    return era === "modern" ? this.encodeModern(shaped) : shaped;
  }

  /** `McpServer.validateToolOutput`: a result that breaks the tool's output schema becomes a tool error. */
  private checkOutput(tool: ToolDefinition, result: CallToolResult): CallToolResult {
    if (tool.output === undefined || result.isError === true) return result;
    if (result.structuredContent === undefined)
      return toolError(
        `Output validation error: Tool ${tool.name} has an output schema but no structured content was provided`,
      );
    const parsed = tool.output.safeParse(result.structuredContent);
    if (parsed.success) return result;
    return toolError(
      `Output validation error: Invalid structured content for tool ${tool.name}: ${describeIssues(parsed.error.issues)}`,
    );
  }

  /** The 2026-07-28 encoding of a `tools/call` result: its `resultType`, and the server's identity in `_meta`. */
  private encodeModern(result: Json): Json {
    const resultType = result["resultType"] ?? "complete";
    const meta = result["_meta"];
    // The usual case in one allocation, with one shared `_meta` (responses are only serialized).
    if (meta === undefined) return { ...result, resultType, _meta: this.serverInfoMeta };
    if (!isPlainObject(meta) || meta[SERVER_INFO_META_KEY] !== undefined) return { ...result, resultType };
    return { ...result, resultType, _meta: { ...meta, [SERVER_INFO_META_KEY]: this.serverInfo } };
  }
}
