import { afterEach, describe, expect, it } from "vitest";
import { InvalidTokenError, type McpHost, type TokenValidator } from "../../../src/index.js";
import { MCP_HEADERS, rpc, testHost } from "../../fixtures/hosts.js";

/** Tokens "user-a", "user-a-refreshed" (same user) and "user-b". */
const validator: TokenValidator = {
  validate(token) {
    const id = token.startsWith("user-a") ? "t1:a" : token === "user-b" ? "t1:b" : undefined;
    if (id === undefined) return Promise.reject(new InvalidTokenError("unknown"));
    return Promise.resolve({
      principal: { id, scopes: [], roles: [], isAppOnly: false, claims: {} },
      expiresAt: Date.now() / 1000 + 600,
    });
  },
};

let host: McpHost;
afterEach(async () => {
  await host.close();
});

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

async function post(token: string, body: string, session?: string): Promise<Response> {
  return host.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        authorization: `Bearer ${token}`,
        "mcp-protocol-version": "2025-11-25",
        ...(session !== undefined && { "mcp-session-id": session }),
      },
      body,
    }),
  );
}

async function open(token: string): Promise<string> {
  const response = await post(token, INIT);
  expect(response.status).toBe(200);
  await response.text();
  const id = response.headers.get("mcp-session-id");
  expect(id).toMatch(/^[\x21-\x7e]{32,}$/);
  return id!;
}

function statefulHost(sessions: Record<string, number> = {}): McpHost {
  return testHost(
    { server: { stateless: false, sessions } },
    { tokenValidator: validator, insecureNoAuth: undefined as never },
  ).host;
}

describe("stateful sessions (opt-in, 2025 era)", () => {
  it("SESS-01: ids are unique, visible ASCII and carry at least 128 random bits", async () => {
    host = statefulHost();
    const ids = new Set<string>();
    for (let index = 0; index < 50; index++) ids.add(await open("user-a"));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(Buffer.from(id, "base64url").length).toBeGreaterThanOrEqual(16);
  });

  it("SESS-05: a session is bound to its principal: another user gets 404, the same user with a refreshed token continues", async () => {
    host = statefulHost();
    const session = await open("user-a");
    const foreign = await post("user-b", rpc("tools/list", {}, 2), session);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { code: -32001, message: "Session not found" } });
    const same = await post(
      "user-a-refreshed",
      rpc("tools/call", { name: "echo", arguments: { text: "ok" } }, 3),
      session,
    );
    expect(same.status).toBe(200);
    expect(await same.text()).toContain('"text":"ok"');
  });

  it("AUTH-08/AUTH-13: a session id never replaces a token: no token → 401, even for an unknown id", async () => {
    host = statefulHost();
    const session = await open("user-a");
    for (const id of [session, "never-issued"]) {
      const response = await host.fetch(
        new Request("http://localhost/mcp", {
          method: "POST",
          headers: { ...MCP_HEADERS, "mcp-session-id": id },
          body: rpc("tools/list"),
        }),
      );
      expect(response.status).toBe(401);
    }
  });

  it("SESS-02/03: a GET without session id → 400; unknown id → 404; after DELETE → 404", async () => {
    host = statefulHost();
    const get = await host.fetch(
      new Request("http://localhost/mcp", {
        headers: { authorization: "Bearer user-a", accept: "text/event-stream" },
      }),
    );
    expect(get.status).toBe(400);
    expect(await get.json()).toMatchObject({ error: { data: { reason: "session_required" } } });
    expect((await post("user-a", rpc("tools/list"), "never-issued")).status).toBe(404);
    const session = await open("user-a");
    const deleted = await host.fetch(
      new Request("http://localhost/mcp", {
        method: "DELETE",
        headers: {
          authorization: "Bearer user-a",
          "mcp-session-id": session,
          "mcp-protocol-version": "2025-11-25",
        },
      }),
    );
    expect(deleted.status).toBe(200);
    expect((await post("user-a", rpc("tools/list"), session)).status).toBe(404);
  });

  it("closes idle sessions", async () => {
    host = statefulHost({ idleTimeoutMs: 1000 });
    const session = await open("user-a");
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await post("user-a", rpc("tools/list"), session)).status).toBe(404);
  });

  it("caps open sessions per principal: the oldest goes, other users are untouched", async () => {
    host = statefulHost({ maxPerUser: 2 });
    const b = await open("user-b");
    const first = await open("user-a");
    const second = await open("user-a");
    const third = await open("user-a");
    expect((await post("user-a", rpc("ping"), first)).status).toBe(404);
    expect((await post("user-a", rpc("ping"), second)).status).toBe(200);
    expect((await post("user-a", rpc("ping"), third)).status).toBe(200);
    expect((await post("user-b", rpc("ping"), b)).status).toBe(200);
  });

  it("refuses new sessions beyond maxTotal with 503 and Retry-After", async () => {
    host = statefulHost({ maxTotal: 1 });
    await open("user-a");
    const refused = await post("user-b", INIT);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
  });

  it("a 2025-era POST without a session id (and no initialize) is served statelessly", async () => {
    host = statefulHost();
    const response = await post(
      "user-a",
      rpc("tools/call", { name: "echo", arguments: { text: "no session" } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect(await response.json()).toMatchObject({ result: { content: [{ text: "no session" }] } });
  });

  it("2026-07-28 requests stay stateless in stateful mode", async () => {
    host = statefulHost();
    const response = await host.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: {
          ...MCP_HEADERS,
          authorization: "Bearer user-a",
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "ping",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "ping",
          params: {
            _meta: {
              "io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientCapabilities": {},
            },
          },
        }),
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
  });
});
