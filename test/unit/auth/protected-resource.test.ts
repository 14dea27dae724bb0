import { afterEach, describe, expect, it } from "vitest";
import { createMcpHost, type McpHost } from "../../../src/index.js";
import { namedTokens } from "../../fixtures/principals.js";

let host: McpHost;
afterEach(async () => {
  await host.close();
});

function make(server: Record<string, unknown>): McpHost {
  host = createMcpHost({
    config: { server, telemetry: { logLevel: "silent" } },
    server: { name: "weather", title: "Weather MCP", version: "1" },
    tokenValidator: namedTokens(),
    authorizationServers: ["https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"],
  });
  return host;
}

const get = (url: string, headers: Record<string, string> = {}) => host.fetch(new Request(url, { headers }));

describe("Protected Resource Metadata (RFC 9728)", () => {
  it("PRM-01/02/06/07: the path-suffixed document names the exact MCP URL", async () => {
    make({
      resourceHost: "https://mcp.contoso.com",
      supportedScopes: ["https://mcp.contoso.com/mcp/Weather.Read"],
    });
    const response = await get("https://mcp.contoso.com/.well-known/oauth-protected-resource/mcp");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({
      resource: "https://mcp.contoso.com/mcp",
      authorization_servers: ["https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"],
      scopes_supported: ["https://mcp.contoso.com/mcp/Weather.Read"],
      bearer_methods_supported: ["header"],
      resource_name: "Weather MCP",
    });
  });

  it("PRM-03: a nested MCP path gets its suffix after /.well-known; the path-first form is 404", async () => {
    make({ resourceHost: "https://mcp.contoso.com", path: "/public/mcp" });
    const response = await get("https://mcp.contoso.com/.well-known/oauth-protected-resource/public/mcp");
    expect(((await response.json()) as { resource: string }).resource).toBe(
      "https://mcp.contoso.com/public/mcp",
    );
    expect(
      (await get("https://mcp.contoso.com/public/mcp/.well-known/oauth-protected-resource")).status,
    ).toBe(404);
  });

  it("PRM-05: the root document describes the origin, never the MCP URL", async () => {
    make({ resourceHost: "https://mcp.contoso.com" });
    const body = (await (
      await get("https://mcp.contoso.com/.well-known/oauth-protected-resource")
    ).json()) as { resource: string };
    expect(body.resource).toBe("https://mcp.contoso.com");
  });

  it("PRM-06: zero-valued parameters are omitted (no scopes configured)", async () => {
    make({ resourceHost: "https://mcp.contoso.com" });
    const body = (await (
      await get("https://mcp.contoso.com/.well-known/oauth-protected-resource/mcp")
    ).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("scopes_supported");
  });

  it("PRM-09: public and CORS-readable: credentials, odd protocol versions and foreign origins are no reason to refuse", async () => {
    make({ resourceHost: "https://mcp.contoso.com" });
    const response = await get("https://mcp.contoso.com/.well-known/oauth-protected-resource/mcp", {
      authorization: "Bearer junk",
      "mcp-protocol-version": "1999-01-01",
      origin: "https://inspector.example",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await host.fetch(
      new Request("https://mcp.contoso.com/.well-known/oauth-protected-resource/mcp", { method: "OPTIONS" }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, OPTIONS");
  });

  it("without resourceHost (development) the resource follows an allowed Host, and a foreign Host is refused", async () => {
    make({});
    const local = (await (
      await get("http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp")
    ).json()) as { resource: string };
    expect(local.resource).toBe("http://127.0.0.1:8080/mcp");
    expect((await get("http://evil.example/.well-known/oauth-protected-resource/mcp")).status).toBe(403);
  });

  it("SEC-02: this server is a pure resource server: no authorize, token or register endpoints", async () => {
    make({ resourceHost: "https://mcp.contoso.com" });
    for (const path of ["/authorize", "/token", "/register", "/.well-known/oauth-authorization-server"]) {
      expect((await get(`https://mcp.contoso.com${path}`)).status).toBe(404);
    }
  });
});
