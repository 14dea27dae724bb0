import { AssertionError } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import { InsufficientScopeError, SdkHttpError, UnauthorizedError } from "@modelcontextprotocol/client";

/** What a tool result should be: its text exactly, a pattern its text matches, or several facts at once. */
export type ToolResultExpectation =
  | string
  | RegExp
  | {
      /** The text content (text blocks joined with a newline): exactly, or matching. */
      readonly text?: string | RegExp;
      /** `structuredContent`, deeply equal. */
      readonly structured?: unknown;
      /** Whether the result is a tool error (`isError`). Default: false. */
      readonly isError?: boolean;
    };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

function textOf(result: Record<string, unknown>): string {
  const content = Array.isArray(result["content"]) ? (result["content"] as unknown[]) : [];
  return content
    .filter((block): block is { type: "text"; text: string } => isRecord(block) && block["type"] === "text")
    .map((block) => block.text)
    .join("\n");
}

function fail(message: string, actual: unknown, expected: unknown, operator: string): never {
  throw new AssertionError({ message, actual, expected, operator });
}

/**
 * Asserts a `tools/call` result and returns its text. Works with any test runner (it throws Node's
 * `AssertionError`). A tool error (`isError: true`) fails unless the expectation says `isError: true`.
 *
 * @example
 * expectToolResult(await client.callTool({ name: "hello", arguments: { name: "Ada" } }), "Hello, Ada!");
 * expectToolResult(result, /Sunny/);
 * expectToolResult(result, { structured: { sum: 3 } });
 * expectToolResult(result, { isError: true, text: "No weather for Atlantis." });
 */
export function expectToolResult(result: unknown, expected: ToolResultExpectation): string {
  if (!isRecord(result)) fail("expected a tools/call result", result, expected, "expectToolResult");
  const text = textOf(result);
  const wanted = typeof expected === "string" || expected instanceof RegExp ? { text: expected } : expected;
  const isError = result["isError"] === true;
  if (isError !== (wanted.isError ?? false)) {
    fail(
      isError
        ? `expected a result, but the tool returned an error: ${text}`
        : "expected a tool error, got a result",
      { isError, text },
      { isError: wanted.isError ?? false },
      "expectToolResult",
    );
  }
  if (typeof wanted.text === "string" && text !== wanted.text)
    fail("the tool result's text differs", text, wanted.text, "strictEqual");
  if (wanted.text instanceof RegExp && !wanted.text.test(text))
    fail(`the tool result's text does not match ${String(wanted.text)}`, text, wanted.text, "match");
  if ("structured" in wanted && !isDeepStrictEqual(result["structuredContent"], wanted.structured))
    fail(
      "the tool result's structuredContent differs",
      result["structuredContent"],
      wanted.structured,
      "deepStrictEqual",
    );
  return text;
}

/** An authorization outcome, as the client saw it. */
export interface Denial {
  /** 401 (not authenticated) or 403 (authenticated, not allowed). */
  readonly status: number;
  /** The challenge's `error`: `invalid_token`, `insufficient_scope`, or undefined. */
  readonly error: string | undefined;
  /** The challenge's `scope`: what to request to step up (fully qualified for Entra), in order. */
  readonly scopes: readonly string[];
  readonly description: string | undefined;
  /** The challenge's `resource_metadata` URL. */
  readonly resourceMetadata: string | undefined;
}

export interface DenialExpectation {
  /** Default: 403. */
  readonly status?: number;
  /** Scopes the challenge must name (besides others): short names (`Weather.Write`) match fully qualified ones. */
  readonly scopes?: readonly string[];
  /** The challenge's `error`. Default: `insufficient_scope` for 403, anything for 401. */
  readonly error?: string;
}

/** RFC 6750 §3 challenge parameters (quoted strings without escapes, which is all Paved sends). */
function challengeParams(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of (header ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)) {
    const [, name, value] = match;
    if (name !== undefined && value !== undefined) params[name] = value;
  }
  return params;
}

const scopeList = (value: string | undefined): string[] =>
  (value ?? "").split(" ").filter((scope) => scope !== "");

function denialOfResponse(response: Response): Denial {
  const params = challengeParams(response.headers.get("www-authenticate"));
  return {
    status: response.status,
    error: params["error"],
    scopes: scopeList(params["scope"]),
    description: params["error_description"],
    resourceMetadata: params["resource_metadata"],
  };
}

function denialOfError(error: unknown): Denial | undefined {
  if (error instanceof InsufficientScopeError) {
    return {
      status: 403,
      error: "insufficient_scope",
      scopes: scopeList(error.requiredScope),
      description: error.errorDescription,
      resourceMetadata: error.resourceMetadataUrl?.href,
    };
  }
  if (error instanceof UnauthorizedError)
    return { status: 401, error: undefined, scopes: [], description: undefined, resourceMetadata: undefined };
  if (error instanceof SdkHttpError && (error.status === 401 || error.status === 403))
    return {
      status: error.status,
      error: undefined,
      scopes: [],
      description: error.message,
      resourceMetadata: undefined,
    };
  return undefined;
}

const shortName = (scope: string): string => scope.slice(scope.lastIndexOf("/") + 1);

/**
 * Asserts that a call was refused by authorization and returns how: pass the promise of a client
 * call (`client.callTool(...)`, `connectClient(...)`) or a `Response` from `host.fetch`. Checks the
 * status (default 403) and, for 403, that the `WWW-Authenticate` challenge is `insufficient_scope`
 * naming the given scopes, which is what a client needs to step up.
 *
 * @example
 * await expectDenied(client.callTool({ name: "delete_city", arguments: { city: "Oslo" } }), {
 *   status: 403,
 *   scopes: ["Weather.Write"],
 * });
 */
export async function expectDenied(
  outcome: Promise<unknown> | Response,
  expected: DenialExpectation = {},
): Promise<Denial> {
  let denial: Denial;
  if (outcome instanceof Response) {
    denial = denialOfResponse(outcome);
    await outcome.body?.cancel();
  } else {
    const settled = await outcome.then(
      (value: unknown) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (settled.ok)
      fail("expected the call to be denied, but it succeeded", settled.value, expected, "expectDenied");
    const found = denialOfError(settled.error);
    if (found === undefined) {
      throw new AssertionError({
        message: `expected an authorization denial (401/403), but the call failed otherwise: ${String(settled.error)}`,
        actual: settled.error,
        expected,
        operator: "expectDenied",
      });
    }
    denial = found;
  }
  const status = expected.status ?? 403;
  if (denial.status !== status)
    fail(`expected HTTP ${status}, got ${denial.status}`, denial, expected, "expectDenied");
  const error = expected.error ?? (status === 403 ? "insufficient_scope" : undefined);
  if (error !== undefined && denial.error !== error)
    fail(
      `expected the challenge error ${error}, got ${denial.error ?? "none"}`,
      denial,
      expected,
      "expectDenied",
    );
  const missing = (expected.scopes ?? []).filter(
    (scope) => !denial.scopes.some((named) => named === scope || shortName(named) === scope),
  );
  if (missing.length > 0)
    fail(`the challenge does not name ${missing.join(", ")}`, denial.scopes, expected.scopes, "expectDenied");
  return denial;
}
