/**
 * End to end, app-only: a Paved host configured for Entra ID (`azureAd`) against the development
 * identity provider, served on a real loopback socket, and the official MCP client with its
 * `ClientCredentialsProvider`. Nothing is mocked: the client discovers everything from the 401.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client,
  ClientCredentialsProvider,
  InsufficientScopeError,
  SdkHttpError,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpHost, defineTool } from "paved-mcp";
import { createDevIdentityProvider, type DevIdentityProvider } from "paved-mcp/dev";
import { serve, type RunningServer } from "paved-mcp/node";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs } from "../fixtures/hosts.js";

/** One HTTP exchange the client made: what the assertions and the report read. */
interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** Form fields of token requests (never the secret: the client sends it in the Authorization header). */
  readonly form?: Readonly<Record<string, string>>;
  readonly wwwAuthenticate?: string;
}

/** A `fetch` that records every exchange the client makes, for the MCP server and the provider alike. */
function recordingFetch(): { fetch: typeof fetch; log: Exchange[] } {
  const log: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? await request.clone().text() : "";
    const response = await fetch(request);
    const isForm = (request.headers.get("content-type") ?? "").startsWith(
      "application/x-www-form-urlencoded",
    );
    const challenge = response.headers.get("www-authenticate");
    log.push({
      method: request.method,
      url: request.url,
      status: response.status,
      ...(isForm && { form: Object.fromEntries(new URLSearchParams(body)) }),
      ...(challenge !== null && { wwwAuthenticate: challenge }),
    });
    return response;
  };
  return { fetch: recording, log };
}

/** A free loopback port: the MCP URL must be known before the host exists, because it is the Application ID URI. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Log lines at warn level or above (the host's info-level audit lines are expected and ignored). */
function warnings(lines: readonly string[]): string[] {
  return lines.filter((line) =>
    ["warn", "error", "fatal"].includes(String((JSON.parse(line) as { level?: unknown }).level)),
  );
}

const readForecast = defineTool({
  name: "read_forecast",
  description: "Reads the forecast (app role Weather.Reader)",
  roles: ["Weather.Reader"],
  handler: (_args, ctx) => `forecast for ${ctx.user.isAppOnly ? "app" : "user"} ${ctx.user.id}`,
});

const purgeForecasts = defineTool({
  name: "purge_forecasts",
  description: "Deletes every forecast (app role Weather.Admin, not assigned to the client)",
  roles: ["Weather.Admin"],
  handler: () => "purged",
});

let stateRoot: string;
let provider: DevIdentityProvider;
let running: RunningServer;
let mcpUrl: string;
let logs: string[];

beforeAll(async () => {
  stateRoot = await mkdtemp(join(tmpdir(), "paved-system-cc-"));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  mcpUrl = `${origin}/mcp`;
  // Entra semantics: the RFC 8707 `resource` the client sends (the PRM `resource`, i.e. the MCP URL)
  // must equal the Application ID URI, so the app registration uses the MCP URL as its URI.
  provider = await createDevIdentityProvider({
    stateDir: join(stateRoot, ".paved"),
    applicationIdUri: mcpUrl,
    scopes: ["Weather.Read"],
    // The app roles assigned to the confidential client: Weather.Reader only, not Weather.Admin.
    roles: ["Weather.Reader"],
  });
  const captured = captureLogs();
  logs = captured.lines;
  const host = createMcpHost({
    config: {
      azureAd: provider.azureAdConfig(),
      server: { resourceHost: origin, supportedScopes: [`${provider.applicationIdUri}/.default`] },
    },
    server: { name: "cc-system", version: "1.0.0" },
    tools: [readForecast, purgeForecasts],
    logger: createLogger({ level: "warn", serviceName: "cc-system", destination: captured.stream }),
  });
  running = await serve(host, { port, handleSignals: false });
  expect(running.url.href).toBe(mcpUrl);
});

afterAll(async () => {
  await running?.close();
  await provider?.close();
  await rm(stateRoot, { recursive: true, force: true });
});

function connectWith(options: { onInsufficientScope?: "reauthorize" | "throw" } = {}) {
  const recorder = recordingFetch();
  const authProvider = new ClientCredentialsProvider({
    clientId: provider.confidentialClient.clientId,
    clientSecret: provider.confidentialClient.clientSecret,
    expectedIssuer: provider.issuer,
  });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider,
    fetch: recorder.fetch,
    ...options,
  });
  const client = new Client({ name: "cc-system-client", version: "1.0.0" });
  return { client, transport, authProvider, log: recorder.log };
}

/** `METHOD url → status` with the two origins named, for readable sequences. */
function line(exchange: Exchange): string {
  const url = exchange.url.replace(new URL(mcpUrl).origin, "{mcp}").replace(provider.url, "{idp}");
  return `${exchange.method} ${url} → ${exchange.status}`;
}

const tenantPath = () => `/${provider.tenantId}`;

describe("client credentials against an Entra-configured host (development identity provider)", () => {
  it("401 → Protected Resource Metadata → authorization server metadata → token → tool call", async () => {
    const { client, transport, authProvider, log } = connectWith();
    await client.connect(transport);
    const result = await client.callTool({ name: "read_forecast", arguments: {} });
    await client.close();

    const token = authProvider.tokens()?.access_token;
    expect(token).toBeDefined();
    const claims = decodeJwt(token!);
    expect(result.isError).toBeUndefined();
    expect(result.content).toEqual([
      { type: "text", text: `forecast for app ${provider.tenantId}:${String(claims["oid"])}` },
    ]);

    // The whole exchange, in order: discovery and token from the 401, then the handshake (the GET for
    // a server-to-client stream gets 405: the host is stateless) and the tool call, all authorised.
    expect(log.map(line)).toEqual([
      "POST {mcp}/mcp → 401",
      "GET {mcp}/.well-known/oauth-protected-resource/mcp → 200",
      `GET {idp}/.well-known/oauth-authorization-server${tenantPath()}/v2.0 → 200`,
      `POST {idp}${tenantPath()}/oauth2/v2.0/token → 200`,
      "POST {mcp}/mcp → 200",
      "POST {mcp}/mcp → 202",
      "GET {mcp}/mcp → 405",
      "POST {mcp}/mcp → 200",
    ]);
    // The 401 named the metadata document and the baseline scope; the client followed both.
    expect(log[0]?.wwwAuthenticate).toBe(
      `Bearer resource_metadata="${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource/mcp", scope="${mcpUrl}/.default"`,
    );
    expect(log[3]?.form).toEqual({
      grant_type: "client_credentials",
      scope: `${mcpUrl}/.default`,
      resource: mcpUrl,
    });
    // An Entra v2 app-only token: audience the API's client ID, roles, no scp, idtyp app.
    expect(claims).toMatchObject({
      aud: provider.clientId,
      iss: provider.issuer,
      azp: provider.confidentialClient.clientId,
      roles: ["Weather.Reader"],
      idtyp: "app",
      ver: "2.0",
    });
    expect(claims["scp"]).toBeUndefined();
  });

  /*
   * What Entra does for app-only callers: a client-credentials request can only ask for
   * `<Application ID URI>/.default`, and the token carries every app role an administrator has
   * assigned to the client's service principal, nothing more and nothing less. Roles are not
   * requestable; there is no incremental consent without a user. Asking again (the SEP-2350 step-up
   * the official client performs on 403 insufficient_scope) therefore yields the same roles: only an
   * admin assigning the role changes the answer. The development provider behaves the same way (every
   * client-credentials token carries exactly the roles it was configured with), so app-only step-up
   * is not made "meaningful" here: a client should surface the 403 (`onInsufficientScope: 'throw'`).
   */
  it("a tool whose app role the client lacks: 403 insufficient_scope, InsufficientScopeError", async () => {
    const { client, transport, log } = connectWith({ onInsufficientScope: "throw" });
    await client.connect(transport);
    const error = await client.callTool({ name: "purge_forecasts", arguments: {} }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    await client.close();

    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(log.map(line).slice(4)).toEqual([
      "POST {mcp}/mcp → 200",
      "POST {mcp}/mcp → 202",
      "GET {mcp}/mcp → 405",
      "POST {mcp}/mcp → 403",
    ]);
    const denial = log.at(-1)!;
    // Roles are not OAuth scopes: the challenge names no scope to request, only the error and where
    // the metadata is. (An app-only token holds no scopes, and the tool requires a role.)
    expect(denial.wwwAuthenticate).toBe(
      `Bearer resource_metadata="${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="The access token does not grant access to the tool purge_forecasts"`,
    );
    expect((error as InsufficientScopeError).requiredScope).toBeUndefined();
    expect((error as InsufficientScopeError).resourceMetadataUrl?.toString()).toBe(
      `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`,
    );
    // No second token request was made: 'throw' does not try to step up.
    expect(log.filter((exchange) => exchange.url.endsWith("/oauth2/v2.0/token"))).toHaveLength(1);
  });

  it("with the default 'reauthorize', the step-up gets a new token with the same roles and then gives up", async () => {
    const { client, transport, log } = connectWith();
    await client.connect(transport);
    const error = await client.callTool({ name: "purge_forecasts", arguments: {} }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    await client.close();

    expect(log.map(line).slice(7)).toEqual([
      "POST {mcp}/mcp → 403",
      "GET {mcp}/.well-known/oauth-protected-resource/mcp → 200",
      `GET {idp}/.well-known/oauth-authorization-server${tenantPath()}/v2.0 → 200`,
      `POST {idp}${tenantPath()}/oauth2/v2.0/token → 200`,
      "POST {mcp}/mcp → 403",
    ]);
    expect(error).toBeInstanceOf(SdkHttpError);
    expect((error as SdkHttpError).message).toMatch(/403 insufficient_scope after step-up/);
    const tokenRequests = log.filter((exchange) => exchange.url.endsWith("/oauth2/v2.0/token"));
    // One token for the connection, one useless re-request (same `.default`, same roles).
    expect(tokenRequests.map((exchange) => exchange.form?.["scope"])).toEqual([
      `${mcpUrl}/.default`,
      `${mcpUrl}/.default`,
    ]);
    expect(log.filter((exchange) => exchange.status === 403)).toHaveLength(2);
  });

  it("logged nothing at warn level or above", () => {
    expect(warnings(logs)).toEqual([]);
  });
});
