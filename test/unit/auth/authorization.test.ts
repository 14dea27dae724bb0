import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createMcpHost,
  defineTool,
  definePrompt,
  defineResource,
  type McpHost,
  type McpHostOptions,
  type RejectionEvent,
} from "../../../src/index.js";
import { MCP_HEADERS, modernRpc, rpc } from "../../fixtures/hosts.js";
import { namedTokens } from "../../fixtures/principals.js";

const read = defineTool({
  name: "read",
  description: "needs Weather.Read",
  scopes: ["Weather.Read"],
  handler: () => "read ok",
});
const write = defineTool({
  name: "write",
  description: "needs Weather.Write",
  scopes: ["Weather.Write"],
  roles: ["Weather.Writer"],
  handler: () => "write ok",
});
const open = defineTool({
  name: "open",
  description: "anyone signed in",
  input: { x: z.string().optional() },
  handler: () => "open ok",
});
const contosoOnly = defineTool({
  name: "contoso",
  description: "policy",
  policy: (user) => user.objectId === "alice",
  handler: () => "policy ok",
});
const secretPrompt = definePrompt({
  name: "secret",
  description: "needs Admin",
  scopes: ["Admin"],
  get: () => "s",
});
const secretDoc = defineResource({ name: "doc", uri: "docs://secret", roles: ["Admin"], read: () => "s" });

const APP_ID_URI = "api://00000000-0000-0000-0000-0000000000aa";
let host: McpHost;
afterEach(async () => {
  await host.close();
});

function make(
  extra: Partial<McpHostOptions> = {},
  supportedScopes = [`${APP_ID_URI}/Weather.Read`],
): McpHost {
  host = createMcpHost({
    config: {
      server: { resourceHost: "https://mcp.contoso.com", supportedScopes },
      telemetry: { logLevel: "silent" },
    },
    server: { name: "authz", version: "1" },
    tools: [read, write, open, contosoOnly],
    prompts: [secretPrompt],
    resources: [secretDoc],
    tokenValidator: namedTokens(),
    authorizationServers: ["https://login.example/tenant/v2.0"],
    ...extra,
  });
  return host;
}

function post(
  token: string | undefined,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return host.fetch(
    new Request("https://mcp.contoso.com/mcp", {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
        ...headers,
      },
      body,
    }),
  );
}

const call = (token: string, tool: string) => post(token, rpc("tools/call", { name: tool, arguments: {} }));

describe("authorization (pipeline stage 9)", () => {
  it("AUTH-01/02/03: the 401 challenge carries resource_metadata and scope, and no error code", async () => {
    make();
    const response = await post(undefined, rpc("tools/list"));
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="https://mcp.contoso.com/.well-known/oauth-protected-resource/mcp", scope="${APP_ID_URI}/Weather.Read"`,
    );
  });

  it("SCOPE-01/02/03: a tool needing more scope → 403 insufficient_scope with held + required, fully qualified, before any stream", async () => {
    make();
    const response = await call("user.alice.Weather-Read", "write");
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="https://mcp.contoso.com/.well-known/oauth-protected-resource/mcp", scope="${APP_ID_URI}/Weather.Read ${APP_ID_URI}/Weather.Write", error="insufficient_scope", error_description="The access token does not grant access to the tool write"`,
    );
    expect(await response.json()).toEqual({
      error: "insufficient_scope",
      error_description: "The access token does not grant access to the tool write",
    });
  });

  it("SCOPE-05: any-of over scp, or any listed app role", async () => {
    make();
    expect((await call("user.bob.Weather-Read.Weather-Write", "write")).status).toBe(200);
    expect((await call("app.daemon.Weather-Writer", "write")).status).toBe(200);
    expect((await call("app.daemon.Other", "write")).status).toBe(403);
    expect((await call("user.bob.Weather-Read", "read")).status).toBe(200);
  });

  it("SCOPE-04: scopes compare on the short name exactly, never by prefix", async () => {
    make();
    expect((await call(`user.eve.Weather-ReadX`, "read")).status).toBe(403);
  });

  it("endpoint scopes: a delegated token without any supported scope is refused for everything", async () => {
    make();
    const response = await call("user.carol.Something-Else", "open");
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain(
      `scope="${APP_ID_URI}/Something.Else ${APP_ID_URI}/Weather.Read"`,
    );
    // app-only tokens are judged by the roles of what they call
    expect((await call("app.daemon.Any", "open")).status).toBe(200);
  });

  it("`.default` supported scopes require no particular scope", async () => {
    make({}, [`${APP_ID_URI}/.default`]);
    expect((await call("user.carol.Something-Else", "open")).status).toBe(200);
  });

  it("per-tool policies and the endpoint `authorize` rule decide on the principal", async () => {
    make({ authorize: (user) => user.objectId !== "mallory" });
    expect((await call("user.alice.Weather-Read", "contoso")).status).toBe(200);
    expect((await call("user.bob.Weather-Read", "contoso")).status).toBe(403);
    expect((await call("user.mallory.Weather-Read", "open")).status).toBe(403);
  });

  it("prompts and resources are authorized like tools", async () => {
    make();
    expect((await post("user.alice.Weather-Read", rpc("prompts/get", { name: "secret" }))).status).toBe(403);
    expect((await post("user.alice.Weather-Read.Admin", rpc("prompts/get", { name: "secret" }))).status).toBe(
      200,
    );
    expect(
      (await post("user.alice.Weather-Read", rpc("resources/read", { uri: "docs://secret" }))).status,
    ).toBe(403);
    expect((await post("app.admin.Admin", rpc("resources/read", { uri: "docs://secret" }))).status).toBe(200);
  });

  it("2026-07-28 calls are authorized from the same body (the Mcp-Name header must agree)", async () => {
    make();
    const response = await post(
      "user.alice.Weather-Read",
      modernRpc("tools/call", { name: "write", arguments: {} }),
      {
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "write",
      },
    );
    expect(response.status).toBe(403);
  });

  it("tools/list, prompts/list and resources/list show each caller only what it may use", async () => {
    make();
    const names = async (token: string, method: string, key: string, id: string) =>
      (
        (
          (await (await post(token, rpc(method))).json()) as {
            result: Record<string, { [k: string]: string }[]>;
          }
        ).result[key] ?? []
      )
        .map((item) => item[id])
        .sort();
    expect(await names("user.alice.Weather-Read", "tools/list", "tools", "name")).toEqual([
      "contoso",
      "open",
      "read",
    ]);
    expect(await names("user.bob.Weather-Read.Weather-Write", "tools/list", "tools", "name")).toEqual([
      "open",
      "read",
      "write",
    ]);
    expect(await names("app.daemon.Weather-Writer", "tools/list", "tools", "name")).toEqual([
      "open",
      "write",
    ]);
    expect(await names("user.alice.Weather-Read", "prompts/list", "prompts", "name")).toEqual([]);
    expect(await names("app.admin.Admin", "resources/list", "resources", "uri")).toEqual(["docs://secret"]);
  });

  it("stateful sessions filter lists per principal too", async () => {
    make({
      config: {
        server: { resourceHost: "https://mcp.contoso.com", stateless: false },
        telemetry: { logLevel: "silent" },
      },
    });
    const init = await post(
      "user.alice.Weather-Read",
      rpc("initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "x", version: "1" },
      }),
    );
    const session = init.headers.get("mcp-session-id")!;
    await init.text();
    const list = await post("user.alice.Weather-Read", rpc("tools/list", {}, 2), {
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
    });
    const text = await list.text();
    expect(text).toContain('"name":"read"');
    expect(text).not.toContain('"name":"write"');
  });
});

describe("hooks", () => {
  it("onAuthenticated can refuse (403) and sees the request, never its credentials", async () => {
    const seen: unknown[] = [];
    make({
      onAuthenticated: (principal, info) => {
        seen.push(info);
        return principal.objectId !== "blocked";
      },
    });
    expect((await call("user.alice.Weather-Read", "read")).status).toBe(200);
    const refused = await call("user.blocked.Weather-Read", "read");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { data: { reason: "access_denied" } } });
    expect(seen[0]).toEqual({
      requestId: expect.any(String),
      method: "POST",
      path: "/mcp",
      remoteAddress: "",
    });
  });

  it("a throwing onAuthenticated refuses (fail closed)", async () => {
    make({
      onAuthenticated: () => {
        throw new Error("directory down");
      },
    });
    expect((await call("user.alice.Weather-Read", "read")).status).toBe(403);
  });

  it("onRejected hears every refusal with its reason and the caller when known", async () => {
    const events: RejectionEvent[] = [];
    make({ onRejected: (event) => events.push(event) });
    await post(undefined, rpc("tools/list"));
    await call("user.alice.Weather-Read", "write");
    await host.fetch(
      new Request("https://mcp.contoso.com/mcp", {
        method: "POST",
        headers: { ...MCP_HEADERS, origin: "https://evil.example" },
        body: "{}",
      }),
    );
    expect(events.map((event) => [event.status, event.reason, event.principalId])).toEqual([
      [401, "unauthorized", undefined],
      [403, "insufficient_scope", "t1:alice"],
      [403, "origin_not_allowed", undefined],
    ]);
  });
});
