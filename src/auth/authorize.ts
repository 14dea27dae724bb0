import type { InboundRequest, Reply } from "../http/exchange.js";
import { oauthReply } from "../http/responses.js";
import type { ParsedMessage } from "../mcp/parse.js";
import type { AccessRuleKind } from "../telemetry/audit.js";
import { bearerChallenge } from "./challenge.js";
import type { Principal } from "./principal.js";

/** Who may use something: any listed scope or any listed role admits, then the policy must agree. */
export interface AccessRule {
  /** Delegated scopes, short names as tokens carry them (`Weather.Read`). */
  readonly scopes?: readonly string[];
  /** App roles (`roles` claim). */
  readonly roles?: readonly string[];
  /** A custom decision on the validated principal; `false` denies. */
  readonly policy?: (principal: Principal) => boolean;
}

export interface AuthorizeOptions {
  /**
   * Short scope names of which a delegated (user) token must hold one to use the server at all
   * (from `server.supportedScopes`, `.default` excluded). App-only tokens carry roles instead and
   * are judged by the roles of what they call. Empty: any authenticated caller.
   */
  readonly endpointScopes: readonly string[];
  /** A custom decision every request must pass. */
  readonly endpointPolicy: ((principal: Principal) => boolean) | undefined;
  readonly tools: ReadonlyMap<string, AccessRule>;
  readonly prompts: ReadonlyMap<string, AccessRule>;
  /** Rules for resources by exact URI. */
  readonly resources: ReadonlyMap<string, AccessRule>;
  /** A short scope name as clients must request it (e.g. `api://<clientId>/Weather.Read` for Entra). */
  readonly qualify: (scope: string) => string;
  readonly resourceMetadataUrl: (request: InboundRequest) => string | undefined;
}

export function permits(principal: Principal, rule: AccessRule | undefined): boolean {
  if (rule === undefined) return true;
  const scopes = rule.scopes ?? [];
  const roles = rule.roles ?? [];
  if (scopes.length > 0 || roles.length > 0) {
    const admitted =
      scopes.some((scope) => principal.scopes.includes(scope)) ||
      roles.some((role) => principal.roles.includes(role));
    if (!admitted) return false;
  }
  return rule.policy === undefined || rule.policy(principal);
}

function ruleFor(options: AuthorizeOptions, parsed: ParsedMessage): AccessRule | undefined {
  if (parsed.kind !== "request" || parsed.target === undefined) return undefined;
  switch (parsed.message.method) {
    case "tools/call":
      return options.tools.get(parsed.target);
    case "prompts/get":
      return options.prompts.get(parsed.target);
    case "resources/read":
      return options.resources.get(parsed.target);
    default:
      return undefined;
  }
}

/**
 * Pipeline stage 9, decided before any byte of the answer is sent (so never inside an SSE stream):
 * the endpoint rule, then the rule of the tool, prompt or resource the request names. A denial is
 * HTTP 403 `insufficient_scope` whose `scope` lists what the caller holds plus what it needs, fully
 * qualified, so a client can step up without losing what it has (MCP SCOPE-01/02).
 */
export function createAuthorize(
  options: AuthorizeOptions,
): (request: InboundRequest, principal: Principal, parsed: ParsedMessage | undefined) => Reply | undefined {
  function deny(
    request: InboundRequest,
    principal: Principal,
    rule: AccessRule,
    what: string,
    kind: AccessRuleKind,
    target?: string,
  ): Reply {
    const scope = [...new Set([...principal.scopes, ...(rule.scopes ?? [])])].map(options.qualify);
    const description = `The access token does not grant ${what}`;
    const resourceMetadata = options.resourceMetadataUrl(request);
    const reply = oauthReply(403, "insufficient_scope", description, {
      "www-authenticate": bearerChallenge({
        error: "insufficient_scope",
        description,
        scope,
        ...(resourceMetadata !== undefined && { resourceMetadata }),
      }),
    });
    return {
      ...reply,
      detail: {
        kind: "access",
        rule: kind,
        target,
        missingScopes: (rule.scopes ?? []).filter((name) => !principal.scopes.includes(name)),
        missingRoles: (rule.roles ?? []).filter((name) => !principal.roles.includes(name)),
      },
    };
  }
  const endpointRule: AccessRule = { scopes: options.endpointScopes };
  const endpointAdmits = (principal: Principal): boolean =>
    (options.endpointScopes.length === 0 ||
      principal.isAppOnly ||
      options.endpointScopes.some((scope) => principal.scopes.includes(scope))) &&
    (options.endpointPolicy === undefined || options.endpointPolicy(principal));
  return function authorize(request, principal, parsed) {
    if (!endpointAdmits(principal))
      return deny(request, principal, endpointRule, "access to this server", "endpoint");
    if (parsed?.kind !== "request") return undefined;
    const rule = ruleFor(options, parsed);
    if (permits(principal, rule)) return undefined;
    const method = parsed.message.method;
    const what = method === "tools/call" ? "tool" : method === "prompts/get" ? "prompt" : "resource";
    return deny(
      request,
      principal,
      rule ?? {},
      `access to the ${what} ${parsed.target ?? ""}`,
      what,
      parsed.target,
    );
  };
}

/** Keeps only what the caller may use in list results, so each caller sees its own catalogue. */
export function filterListResult(
  options: AuthorizeOptions,
  principal: Principal,
  method: string,
  result: Record<string, unknown>,
): Record<string, unknown> {
  const pick = (
    key: string,
    rules: ReadonlyMap<string, AccessRule>,
    id: (item: Record<string, unknown>) => unknown,
  ): Record<string, unknown> => {
    const items = result[key];
    if (!Array.isArray(items)) return result;
    return {
      ...result,
      [key]: items.filter((item: Record<string, unknown>) => permits(principal, rules.get(String(id(item))))),
    };
  };
  switch (method) {
    case "tools/list":
      return pick("tools", options.tools, (item) => item["name"]);
    case "prompts/list":
      return pick("prompts", options.prompts, (item) => item["name"]);
    case "resources/list":
      return pick("resources", options.resources, (item) => item["uri"]);
    default:
      return result;
  }
}
