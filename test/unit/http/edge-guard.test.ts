import { afterEach, describe, expect, it } from "vitest";
import { internalsOf } from "../../../src/host-internals.js";
import type { McpHost } from "../../../src/index.js";
import { MCP_HEADERS, modernRpc, rpc, testHost } from "../../fixtures/hosts.js";

const URL_MCP = "http://localhost/mcp";
let host: McpHost;

afterEach(async () => {
  await host.close();
});

async function post(body: string, headers: Record<string, string> = {}, url = URL_MCP): Promise<Response> {
  return host.fetch(new Request(url, { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body }));
}

async function expectRejection(
  response: Response,
  status: number,
  reason: string,
  code = -32000,
): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  const body = (await response.json()) as {
    jsonrpc: string;
    id: unknown;
    error: { code: number; message: string; data: { reason: string } };
  };
  expect(body.jsonrpc).toBe("2.0");
  expect(body.error.code).toBe(code);
  expect(body.error.data.reason).toBe(reason);
  expect(typeof body.error.message).toBe("string");
}

describe("edge guard (pipeline stage 2)", () => {
  it("HTTP-03: a Host outside the allow-list gets 403 before anything else", async () => {
    ({ host } = testHost());
    await expectRejection(
      await post(rpc("ping"), {}, "http://evil.example.com/mcp"),
      403,
      "host_not_allowed",
    );
  });

  it("allows the loopback host names by default and the resourceHost's host when set", async () => {
    ({ host } = testHost({ server: { resourceHost: "https://mcp.contoso.com" } }));
    expect((await post(rpc("ping"), {}, "http://127.0.0.1:8080/mcp")).status).toBe(200);
    expect((await post(rpc("ping"), {}, "https://mcp.contoso.com/mcp")).status).toBe(200);
    await expectRejection(
      await post(rpc("ping"), {}, "https://mcp.fabrikam.com/mcp"),
      403,
      "host_not_allowed",
    );
  });

  it('allowedHosts ["*"] switches the Host check off', async () => {
    ({ host } = testHost({ server: { allowedHosts: ["*"] } }));
    expect((await post(rpc("ping"), {}, "http://anything.example/mcp")).status).toBe(200);
  });

  it("HTTP-02: a present, foreign Origin gets 403 with a JSON-RPC error without id", async () => {
    ({ host } = testHost({ server: { resourceHost: "https://mcp.contoso.com" } }));
    const response = await post(
      rpc("ping"),
      { origin: "https://evil.example" },
      "https://mcp.contoso.com/mcp",
    );
    const body = (await response.clone().json()) as { id: unknown };
    expect(body.id).toBeNull();
    await expectRejection(response, 403, "origin_not_allowed");
    await expectRejection(
      await post(rpc("ping"), { origin: "null" }, "https://mcp.contoso.com/mcp"),
      403,
      "origin_not_allowed",
    );
    // loopback origins are not allowed when the server has a public resourceHost
    await expectRejection(
      await post(rpc("ping"), { origin: "http://localhost:6274" }, "https://mcp.contoso.com/mcp"),
      403,
      "origin_not_allowed",
    );
  });

  it("HTTP-02: no Origin, the resourceHost's origin and configured origins pass", async () => {
    ({ host } = testHost({
      server: { resourceHost: "https://mcp.contoso.com", allowedOrigins: ["https://app.contoso.com"] },
    }));
    expect((await post(rpc("ping"), {}, "https://mcp.contoso.com/mcp")).status).toBe(200);
    expect(
      (await post(rpc("ping"), { origin: "https://mcp.contoso.com" }, "https://mcp.contoso.com/mcp")).status,
    ).toBe(200);
    expect(
      (await post(rpc("ping"), { origin: "https://APP.contoso.com" }, "https://mcp.contoso.com/mcp")).status,
    ).toBe(200);
  });

  it("in development (no resourceHost) any loopback origin passes, other origins do not", async () => {
    ({ host } = testHost());
    expect((await post(rpc("ping"), { origin: "http://localhost:6274" })).status).toBe(200);
    expect((await post(rpc("ping"), { origin: "http://127.0.0.1:3000" })).status).toBe(200);
    await expectRejection(
      await post(rpc("ping"), { origin: "http://localhost.evil.example" }),
      403,
      "origin_not_allowed",
    );
  });

  it("HTTP-01: other methods get 405 with Allow (POST only when stateless)", async () => {
    ({ host } = testHost());
    for (const method of ["GET", "DELETE", "PUT", "PATCH"]) {
      const response = await host.fetch(
        new Request(URL_MCP, { method, headers: { accept: "text/event-stream" } }),
      );
      expect(response.headers.get("allow")).toBe("POST");
      await expectRejection(response, 405, "method_not_allowed");
    }
  });

  it("HTTP-01: in stateful mode Allow lists GET, POST, DELETE", async () => {
    ({ host } = testHost({ server: { stateless: false } }));
    const response = await host.fetch(new Request(URL_MCP, { method: "PUT", body: "{}" }));
    expect(response.headers.get("allow")).toBe("GET, POST, DELETE");
    await expectRejection(response, 405, "method_not_allowed");
  });

  it("HTTP-05: a POST that is not application/json gets 415", async () => {
    ({ host } = testHost());
    await expectRejection(
      await post(rpc("ping"), { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
    await expectRejection(
      await post(rpc("ping"), { "content-type": "application/jsonx" }),
      415,
      "unsupported_media_type",
    );
    expect((await post(rpc("ping"), { "content-type": "application/json; charset=utf-8" })).status).toBe(200);
  });

  it("HTTP-04: a POST that does not accept both JSON and SSE gets 406", async () => {
    ({ host } = testHost());
    await expectRejection(await post(rpc("ping"), { accept: "application/json" }), 406, "not_acceptable");
    await expectRejection(await post(rpc("ping"), { accept: "text/event-stream" }), 406, "not_acceptable");
    await expectRejection(
      await post(rpc("ping"), { accept: "application/json, text/event-stream;q=0" }),
      406,
      "not_acceptable",
    );
    expect((await post(rpc("ping"), { accept: "*/*" })).status).toBe(200);
  });

  it("HTTP-13: a declared body over the limit gets 413 before it is read", async () => {
    ({ host } = testHost({ server: { maxBodyBytes: 1024 } }));
    await expectRejection(await post("x".repeat(10), { "content-length": "5000000" }), 413, "body_too_large");
  });

  it("HTTP-13: a body that grows past the limit while read gets 413", async () => {
    ({ host } = testHost({ server: { maxBodyBytes: 1024 } }));
    const response = await post(rpc("tools/call", { name: "echo", arguments: { text: "x".repeat(2000) } }));
    await expectRejection(response, 413, "body_too_large");
    expect(response.headers.get("connection")).toBe("close");
  });

  it("malformed JSON gets 400 with a JSON-RPC parse error", async () => {
    ({ host } = testHost());
    await expectRejection(await post('{"jsonrpc":"2.0",'), 400, "parse_error", -32700);
    await expectRejection(await post(""), 400, "parse_error", -32700);
  });

  it("HTTP-06: a JSON-RPC batch gets 400 -32600", async () => {
    ({ host } = testHost());
    await expectRejection(
      await post(`[${rpc("ping")},${rpc("ping", {}, 2)}]`),
      400,
      "batch_not_supported",
      -32600,
    );
  });

  it("a body that is not one JSON-RPC 2.0 message gets 400 -32600, echoing the id when it has one", async () => {
    ({ host } = testHost());
    await expectRejection(await post("42"), 400, "invalid_request", -32600);
    const response = await post(JSON.stringify({ jsonrpc: "1.0", id: 7, method: "ping" }));
    expect(((await response.clone().json()) as { id: unknown }).id).toBe(7);
    await expectRejection(response, 400, "invalid_request", -32600);
  });

  it("HTTP-11: an unsupported MCP-Protocol-Version gets 400", async () => {
    ({ host } = testHost());
    const response = await post(rpc("tools/list"), { "mcp-protocol-version": "2099-01-01" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: number } };
    expect(body.error.code).toBeLessThan(0);
    for (const version of ["2025-11-25", "2025-06-18", "2025-03-26"]) {
      expect((await post(rpc("tools/list"), { "mcp-protocol-version": version })).status).toBe(200);
    }
  });

  it("2026-07-28: missing or contradicting standard headers get 400 -32020", async () => {
    ({ host } = testHost());
    const call = modernRpc("tools/call", { name: "echo", arguments: { text: "hi" } });
    const full = { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "echo" };
    expect((await post(call, full)).status).toBe(200);
    const { "mcp-protocol-version": _version, ...noVersion } = full;
    await expectRejection(await post(call, noVersion), 400, "header_mismatch", -32020);
    const { "mcp-method": _method, ...noMethod } = full;
    await expectRejection(await post(call, noMethod), 400, "header_mismatch", -32020);
    const { "mcp-name": _name, ...noName } = full;
    await expectRejection(await post(call, noName), 400, "header_mismatch", -32020);
    await expectRejection(await post(call, { ...full, "mcp-name": "other" }), 400, "header_mismatch", -32020);
    await expectRejection(
      await post(call, { ...full, "mcp-method": "tools/list" }),
      400,
      "header_mismatch",
      -32020,
    );
    // Base64 sentinel form of the name
    expect(
      (await post(call, { ...full, "mcp-name": `=?base64?${Buffer.from("echo").toString("base64")}?=` }))
        .status,
    ).toBe(200);
    await expectRejection(
      await post(call, { ...full, "mcp-name": "=?base64?***?=" }),
      400,
      "header_mismatch",
      -32020,
    );
  });

  it("unknown paths get 404; the health routes answer GET only", async () => {
    ({ host } = testHost());
    await expectRejection(await host.fetch(new Request("http://localhost/mcp/")), 404, "not_found");
    await expectRejection(await host.fetch(new Request("http://localhost/")), 404, "not_found");
    const health = await host.fetch(new Request("http://localhost/healthz", { method: "POST" }));
    expect(health.headers.get("allow")).toBe("GET, HEAD");
    await expectRejection(health, 405, "method_not_allowed");
  });
});

describe("responses", () => {
  it("carry the security headers and a request id on every answer, success or rejection", async () => {
    ({ host } = testHost());
    for (const response of [
      await post(rpc("ping")),
      await post("{", {}),
      await host.fetch(new Request("http://localhost/healthz")),
      await host.fetch(new Request("http://localhost/nope")),
    ]) {
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toContain("no-store");
      expect(response.headers.get("content-security-policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(response.headers.get("x-powered-by")).toBeNull();
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("echo a well-formed inbound X-Request-Id and replace a malformed one", async () => {
    ({ host } = testHost());
    expect((await post(rpc("ping"), { "x-request-id": "abc-123" })).headers.get("x-request-id")).toBe(
      "abc-123",
    );
    expect(
      (await post(rpc("ping"), { "x-request-id": "bad id\t<script>" })).headers.get("x-request-id"),
    ).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("public routes (pipeline stage 3)", () => {
  it("/healthz is alive; /readyz reflects checks and draining", async () => {
    let ok = false;
    ({ host } = testHost({}, { readiness: [{ name: "store", check: () => ok }] }));
    expect(await (await host.fetch(new Request("http://localhost/healthz"))).json()).toEqual({
      status: "ok",
    });
    const notReady = await host.fetch(new Request("http://localhost/readyz"));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: "not_ready", checks: { store: false } });
    ok = true;
    const ready = await host.fetch(new Request("http://localhost/readyz"));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { store: true } });
  });

  it("/readyz answers 503 draining once shutdown has begun", async () => {
    ({ host } = testHost());
    internalsOf(host).drain();
    const response = await host.fetch(new Request("http://localhost/readyz"));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "draining", checks: {} });
  });

  it("a readiness check that throws counts as not ready", async () => {
    ({ host } = testHost({}, { readiness: [{ name: "boom", check: () => Promise.reject(new Error("x")) }] }));
    const response = await host.fetch(new Request("http://localhost/readyz"));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "not_ready", checks: { boom: false } });
  });

  it("health routes skip the Host allow-list (probes use pod addresses)", async () => {
    ({ host } = testHost());
    expect((await host.fetch(new Request("http://10.1.2.3:8080/healthz"))).status).toBe(200);
  });
});
