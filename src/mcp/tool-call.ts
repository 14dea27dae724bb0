import {
  isCallToolResult,
  isInputRequiredResult,
  type CallToolResult,
  type InputRequiredResult,
} from "@modelcontextprotocol/server";
import { ToolError } from "../errors.js";
import { NEEDS_SDK, type ToolContext } from "./context.js";
import type { ToolDefinition } from "./definitions.js";

/** What a client sees of a handler's failure: a `ToolError`'s message, otherwise nothing internal. */
export function failure(error: unknown, ctx: ToolContext, what: string): string {
  if (error instanceof ToolError) return error.message;
  if (ctx.signal.aborted) return "The request was cancelled before it finished.";
  ctx.log.error({ err: error }, `${what} failed`);
  return `${what} failed unexpectedly. Reference: ${ctx.requestId}`;
}

function toToolResult(value: unknown, structured: boolean): CallToolResult | InputRequiredResult {
  if (isCallToolResult(value) || isInputRequiredResult(value)) return value;
  if (structured) {
    return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
  }
  if (value === undefined) return { content: [] };
  return { content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value) }] };
}

/** Runs a tool's handler and shapes what it returns into a result: the same whichever lane serves the call. */
export async function invokeTool(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  ctx: ToolContext,
): Promise<CallToolResult | InputRequiredResult> {
  try {
    return toToolResult(await tool.handler(args, ctx), tool.output !== undefined);
  } catch (error) {
    if (error === NEEDS_SDK) throw error;
    return { isError: true, content: [{ type: "text", text: failure(error, ctx, `Tool "${tool.name}"`) }] };
  }
}
