import type {
  CallToolResult,
  GetPromptResult,
  ReadResourceResult,
  ResourceTemplate,
  ToolAnnotations,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { PavedError } from "../errors.js";
import type { Principal } from "../auth/principal.js";
import type { ToolContext } from "./context.js";

/** A tool's input or output: a zod object, or the plain shape of one (`{ city: z.string() }`). */
export type SchemaLike = z.ZodObject | z.ZodRawShape;

/** The handler's argument type: the parsed output of the schema, defaults applied. */
export type Infer<S> = S extends z.ZodObject
  ? z.output<S>
  : S extends z.ZodRawShape
    ? z.output<z.ZodObject<S>>
    : Record<string, never>;

/**
 * Who may use a tool, resource or prompt: any listed scope **or** any listed role admits the caller,
 * then `policy`, when given, must agree. Nothing listed: any authenticated caller.
 */
export interface AccessRequirements {
  /** Delegated scopes (`scp`), short names (e.g. `Weather.Read`); any one suffices. */
  readonly scopes?: readonly string[];
  /** App roles (`roles`); any one suffices. */
  readonly roles?: readonly string[];
  /** A custom decision on the validated caller, e.g. `(user) => user.tenantId === CONTOSO`. */
  readonly policy?: (principal: Principal) => boolean;
}

/** What a tool handler may return: text, a full MCP result, or (with `output`) the structured value. */
export type ToolReturn<O> = [O] extends [undefined]
  ? string | CallToolResult | object
  : Infer<O> | CallToolResult;

export interface ToolOptions<
  I extends SchemaLike | undefined,
  O extends SchemaLike | undefined,
> extends AccessRequirements {
  /** Unique name the client calls (letters, digits, `_`, `-`, `.`; at most 128 characters). */
  readonly name: string;
  readonly title?: string;
  /** What the tool does; models read this to decide when to call it. */
  readonly description: string;
  readonly input?: I;
  /** When given, results are validated against it and returned as `structuredContent` too. */
  readonly output?: O;
  readonly annotations?: ToolAnnotations;
  /**
   * Quota units one call takes from the caller's per-user and per-tenant rate limits
   * (`server.maxRequestsPerMinutePerUser`, `…PerTenant`), for expensive tools. Integer ≥ 1; default 1.
   */
  readonly cost?: number;
  /**
   * A limit of this tool's own: at most `perUser` calls per user per rate-limit window
   * (`server.rateLimitWindowMs`), on top of the user's quota. Reported as the policy `tool:<name>`.
   */
  readonly rateLimit?: { readonly perUser: number };
  /**
   * The handler reads `ctx.mcp`, the SDK's own request context (SDK logging, 2025-era elicitation
   * and sampling). Its calls then run through the SDK's per-request machinery; other tools' calls
   * are answered by Paved directly, at about half the CPU (docs/pipeline.md, "Direct tool calls").
   * Default false: `ctx.mcp` throws `ERR_SDK_CONTEXT`.
   */
  readonly sdkContext?: boolean;
  readonly handler: (args: Infer<I>, ctx: ToolContext) => ToolReturn<O> | Promise<ToolReturn<O>>;
}

export interface ToolDefinition extends AccessRequirements {
  readonly kind: "tool";
  readonly name: string;
  readonly title: string | undefined;
  readonly description: string;
  readonly input: z.ZodObject | undefined;
  readonly output: z.ZodObject | undefined;
  readonly annotations: ToolAnnotations | undefined;
  /** Quota units per call (default 1). */
  readonly cost: number;
  /** This tool's own per-user limit per window, when it has one. */
  readonly rateLimit: { readonly perUser: number } | undefined;
  /** Calls run through the SDK and the handler may read `ctx.mcp`. */
  readonly sdkContext: boolean;
  readonly handler: (args: Record<string, unknown>, ctx: ToolContext) => unknown;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

function toObject(schema: SchemaLike | undefined): z.ZodObject | undefined {
  if (schema === undefined) return undefined;
  return schema instanceof z.ZodObject ? schema : z.object(schema);
}

function checkAccess(kind: string, name: string, access: AccessRequirements): void {
  if (access.policy !== undefined && typeof access.policy !== "function") {
    throw new PavedError(
      "ERR_TOOL_DEFINITION",
      `${kind} "${name}": policy must be a function of the principal`,
    );
  }
  for (const list of [access.scopes, access.roles]) {
    if (
      list !== undefined &&
      (!Array.isArray(list) || list.some((item) => typeof item !== "string" || item.trim() === ""))
    ) {
      throw new PavedError(
        "ERR_TOOL_DEFINITION",
        `${kind} "${name}": scopes and roles must be lists of non-empty strings`,
      );
    }
  }
}

/**
 * Defines a tool. Schemas are built here, once, at module load: never per request.
 *
 * @example
 * export const getWeather = defineTool({
 *   name: "get_weather",
 *   description: "Get weather information for a location",
 *   input: { city: z.string().describe("City name"), country: z.string().default("US") },
 *   scopes: ["Weather.Read"],
 *   handler: ({ city, country }) => `Weather in ${city}, ${country}: Sunny`,
 * });
 */
export function defineTool<
  I extends SchemaLike | undefined = undefined,
  O extends SchemaLike | undefined = undefined,
>(options: ToolOptions<I, O>): ToolDefinition {
  if (typeof options.name !== "string" || !TOOL_NAME.test(options.name)) {
    throw new PavedError(
      "ERR_TOOL_DEFINITION",
      `Tool name ${JSON.stringify(options.name)} is invalid: use 1-128 letters, digits, "_", "-" or "."`,
    );
  }
  if (typeof options.description !== "string" || options.description.trim() === "") {
    throw new PavedError("ERR_TOOL_DEFINITION", `Tool "${options.name}" needs a description`);
  }
  if (typeof options.handler !== "function") {
    throw new PavedError("ERR_TOOL_DEFINITION", `Tool "${options.name}" needs a handler function`);
  }
  checkAccess("Tool", options.name, options);
  const cost = options.cost ?? 1;
  if (!Number.isSafeInteger(cost) || cost < 1) {
    throw new PavedError("ERR_TOOL_DEFINITION", `Tool "${options.name}": cost must be an integer ≥ 1`);
  }
  const perUser = options.rateLimit?.perUser;
  if (options.rateLimit !== undefined && (!Number.isSafeInteger(perUser) || (perUser as number) < 1)) {
    throw new PavedError(
      "ERR_TOOL_DEFINITION",
      `Tool "${options.name}": rateLimit.perUser must be an integer ≥ 1`,
    );
  }
  if (options.sdkContext !== undefined && typeof options.sdkContext !== "boolean") {
    throw new PavedError("ERR_TOOL_DEFINITION", `Tool "${options.name}": sdkContext must be a boolean`);
  }
  return Object.freeze({
    kind: "tool",
    name: options.name,
    title: options.title,
    description: options.description,
    input: toObject(options.input),
    output: toObject(options.output),
    annotations: options.annotations,
    cost,
    rateLimit: perUser === undefined ? undefined : Object.freeze({ perUser }),
    sdkContext: options.sdkContext === true,
    ...(options.scopes !== undefined && { scopes: Object.freeze([...options.scopes]) }),
    ...(options.roles !== undefined && { roles: Object.freeze([...options.roles]) }),
    ...(options.policy !== undefined && { policy: options.policy }),
    handler: options.handler as ToolDefinition["handler"],
  });
}

export interface ResourceOptions extends AccessRequirements {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  /** A fixed URI, or an SDK `ResourceTemplate` (`new ResourceTemplate("users://{id}", { list: undefined })`). */
  readonly uri: string | ResourceTemplate;
  readonly read: (
    uri: URL,
    ctx: ToolContext,
    variables: Readonly<Record<string, string | string[]>>,
  ) => ReadResourceResult | string | Promise<ReadResourceResult | string>;
}

export interface ResourceDefinition extends ResourceOptions {
  readonly kind: "resource";
}

/**
 * Defines a resource (a fixed URI or a template). Returning a string gives one text content
 * with the resource's `mimeType` (default `text/plain`).
 */
export function defineResource(options: ResourceOptions): ResourceDefinition {
  if (typeof options.name !== "string" || options.name === "" || typeof options.read !== "function") {
    throw new PavedError("ERR_TOOL_DEFINITION", "A resource needs a name and a read function");
  }
  checkAccess("Resource", options.name, options);
  return Object.freeze({ kind: "resource", ...options });
}

export interface PromptOptions<A extends z.ZodRawShape | undefined> extends AccessRequirements {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  /** Prompt arguments: a shape of string schemas (`completable()` ones offer completions). */
  readonly args?: A;
  readonly get: (
    args: Infer<A>,
    ctx: ToolContext,
  ) => GetPromptResult | string | Promise<GetPromptResult | string>;
}

export interface PromptDefinition extends AccessRequirements {
  readonly kind: "prompt";
  readonly name: string;
  readonly title: string | undefined;
  readonly description: string | undefined;
  readonly args: z.ZodObject | undefined;
  readonly get: (args: Record<string, unknown>, ctx: ToolContext) => unknown;
}

/** Defines a prompt. Returning a string gives one user message with that text. */
export function definePrompt<A extends z.ZodRawShape | undefined = undefined>(
  options: PromptOptions<A>,
): PromptDefinition {
  if (typeof options.name !== "string" || options.name === "" || typeof options.get !== "function") {
    throw new PavedError("ERR_TOOL_DEFINITION", "A prompt needs a name and a get function");
  }
  checkAccess("Prompt", options.name, options);
  return Object.freeze({
    kind: "prompt",
    name: options.name,
    title: options.title,
    description: options.description,
    args: options.args === undefined ? undefined : z.object(options.args),
    ...(options.scopes !== undefined && { scopes: Object.freeze([...options.scopes]) }),
    ...(options.roles !== undefined && { roles: Object.freeze([...options.roles]) }),
    ...(options.policy !== undefined && { policy: options.policy }),
    get: options.get as PromptDefinition["get"],
  });
}

export type Definition = ToolDefinition | ResourceDefinition | PromptDefinition;

export function isDefinition(value: unknown): value is Definition {
  if (typeof value !== "object" || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return (kind === "tool" || kind === "resource" || kind === "prompt") && Object.isFrozen(value);
}
