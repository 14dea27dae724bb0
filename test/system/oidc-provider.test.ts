/**
 * End to end, generic OpenID Connect: a Paved host in `oidc` mode validates JWT access tokens
 * (RFC 9068) issued by a real, independent authorization server, `oidc-provider` from npm, running
 * in this process on loopback http (development mode) with RFC 8707 resource indicators. The
 * official MCP client's `ClientCredentialsProvider` finds it from the 401 alone.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Client,
  ClientCredentialsProvider,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import Provider, { errors, type ResourceServer } from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpHost, defineTool } from "paved-mcp";
import { serve, type RunningServer } from "paved-mcp/node";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs } from "../fixtures/hosts.js";

/** Log lines at warn level or above (the host's info-level audit lines are expected and ignored). */
function warnings(lines: readonly string[]): string[] {
  return lines.filter((line) =>
    ["warn", "error", "fatal"].includes(String((JSON.parse(line) as { level?: unknown }).level)),
  );
}

const DAEMON = { clientId: "mcp-daemon", clientSecret: "daemon-secret-for-tests-only-0123456789" };
/** A client whose tokens for the MCP resource live two seconds, for the expiry test. */
const SHORT_LIVED = { clientId: "mcp-daemon-short", clientSecret: "short-secret-for-tests-only-0123456789" };
const OTHER_RESOURCE = "http://127.0.0.1:1/another-api";

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

const readForecast = defineTool({
  name: "read_forecast",
  description: "Reads the forecast (scope weather.read)",
  scopes: ["weather.read"],
  handler: (_args, ctx) => `forecast for ${ctx.user.isAppOnly ? "app" : "user"} ${ctx.user.clientId ?? "?"}`,
});

let idpServer: Server;
let issuer: string;
let running: RunningServer;
let mcpUrl: string;
let logs: string[];

beforeAll(async () => {
  // A free port for the MCP server first: its URL is the resource indicator the provider must know.
  const probe = createServer();
  const mcpPort = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;

  idpServer = createServer();
  issuer = `http://127.0.0.1:${await listen(idpServer)}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: "test-key-1", alg: "RS256", use: "sig" };

  const resourceServer = (audience: string, client: { clientId: string } | undefined): ResourceServer => ({
    scope: "weather.read weather.write",
    audience,
    accessTokenFormat: "jwt",
    accessTokenTTL: client?.clientId === SHORT_LIVED.clientId ? 2 : 300,
    jwt: { sign: { alg: "RS256" } },
  });
  const oidc = new Provider(issuer, {
    clients: [DAEMON, SHORT_LIVED].map(({ clientId, clientSecret }) => ({
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      scope: "weather.read weather.write",
    })),
    // Scopes a client may be registered with (resource servers then grant their own subset).
    scopes: ["openid", "offline_access", "weather.read", "weather.write"],
    // Client-credentials tokens live as long as their resource server says.
    ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300 },
    jwks: { keys: [signingKey] },
    cookies: { keys: ["cookie-key-for-tests-only"] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => mcpUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          if (indicator === mcpUrl || indicator === OTHER_RESOURCE) return resourceServer(indicator, client);
          throw new errors.InvalidTarget();
        },
      },
    },
  });
  const handle = oidc.callback();
  idpServer.on("request", (request, response) => void handle(request, response));

  const captured = captureLogs();
  logs = captured.lines;
  const host = createMcpHost({
    config: {
      oidc: { issuer, clockSkewSeconds: 0 },
      server: { resourceHost: new URL(mcpUrl).origin, supportedScopes: ["weather.read"] },
    },
    server: { name: "oidc-system", version: "1.0.0" },
    tools: [readForecast],
    logger: createLogger({ level: "warn", serviceName: "oidc-system", destination: captured.stream }),
  });
  running = await serve(host, { port: mcpPort, handleSignals: false });
  expect(running.url.href).toBe(mcpUrl);
});

afterAll(async () => {
  await running?.close();
  idpServer?.closeAllConnections();
  await new Promise<void>((resolve) =>
    idpServer === undefined ? resolve() : idpServer.close(() => resolve()),
  );
});

/** A client-credentials token straight from the provider's token endpoint (client_secret_basic). */
async function tokenFor(
  client: { clientId: string; clientSecret: string },
  resource: string,
  scope = "weather.read",
): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope, resource }),
  });
  const body = (await response.json()) as { access_token?: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.access_token!;
}

/** A raw `tools/call` with a bearer token: the status and the challenge. */
async function callWith(token: string): Promise<{ status: number; challenge: string | null; body: unknown }> {
  const response = await fetch(mcpUrl, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "read_forecast", arguments: {} },
    }),
  });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    body: text.startsWith("{") ? JSON.parse(text) : text,
  };
}

describe("generic OIDC mode against oidc-provider (resource indicators, JWT access tokens)", () => {
  it("401 → Protected Resource Metadata → authorization server metadata → token with resource → tool call", async () => {
    const log: { line: string; form?: Record<string, string> }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const isForm = (request.headers.get("content-type") ?? "").startsWith(
        "application/x-www-form-urlencoded",
      );
      const form = isForm ? Object.fromEntries(new URLSearchParams(await request.clone().text())) : undefined;
      const response = await fetch(request);
      const url = request.url.replace(new URL(mcpUrl).origin, "{mcp}").replace(issuer, "{as}");
      log.push({
        line: `${request.method} ${url} → ${response.status}`,
        ...(form !== undefined && { form }),
      });
      return response;
    };
    const authProvider = new ClientCredentialsProvider({ ...DAEMON, expectedIssuer: issuer });
    const client = new Client({ name: "oidc-system-client", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider, fetch: recording }),
    );
    const result = await client.callTool({ name: "read_forecast", arguments: {} });
    await client.close();

    expect(result.isError).toBeUndefined();
    expect(result.content).toEqual([{ type: "text", text: `forecast for app ${DAEMON.clientId}` }]);
    // oidc-provider publishes OpenID Connect discovery only: the client's RFC 8414 probe gets 404
    // and it falls back to /.well-known/openid-configuration, whose issuer it checks.
    expect(log.map((entry) => entry.line)).toEqual([
      "POST {mcp}/mcp → 401",
      "GET {mcp}/.well-known/oauth-protected-resource/mcp → 200",
      "GET {as}/.well-known/oauth-authorization-server → 404",
      "GET {as}/.well-known/openid-configuration → 200",
      "POST {as}/token → 200",
      "POST {mcp}/mcp → 200",
      "POST {mcp}/mcp → 202",
      "GET {mcp}/mcp → 405",
      "POST {mcp}/mcp → 200",
    ]);
    expect(log[4]?.form).toEqual({
      grant_type: "client_credentials",
      scope: "weather.read",
      resource: mcpUrl,
    });

    const token = authProvider.tokens()!.access_token;
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: "at+jwt", alg: "RS256", kid: "test-key-1" });
    expect(decodeJwt(token)).toMatchObject({
      iss: issuer,
      aud: mcpUrl,
      sub: DAEMON.clientId,
      client_id: DAEMON.clientId,
      scope: "weather.read",
    });
  });

  it("refuses a token of the same provider for another resource (wrong audience): 401 invalid_token", async () => {
    const token = await tokenFor(DAEMON, OTHER_RESOURCE);
    expect(decodeJwt(token)).toMatchObject({ iss: issuer, aud: OTHER_RESOURCE, scope: "weather.read" });
    const answer = await callWith(token);
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(
      /^Bearer resource_metadata="[^"]+", scope="weather.read", error="invalid_token"/,
    );
    expect(answer.body).toEqual({
      error: "invalid_token",
      error_description: "The access token is for another audience",
    });
  });

  it("accepts a short-lived token until it expires, then refuses it: 401 invalid_token", async () => {
    const token = await tokenFor(SHORT_LIVED, mcpUrl);
    const { exp } = decodeJwt(token);
    expect(exp).toBeDefined();
    expect((await callWith(token)).status).toBe(200);

    // No leeway on the host (clockSkewSeconds: 0); the validated-token cache must not outlive `exp`.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp! * 1000 + 1100 - Date.now())));
    const answer = await callWith(token);
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(
      /error="invalid_token", error_description="The access token has expired"$/,
    );
    expect(answer.body).toEqual({
      error: "invalid_token",
      error_description: "The access token has expired",
    });
  });

  it("logged nothing at warn level or above", () => {
    expect(warnings(logs)).toEqual([]);
  });
});
