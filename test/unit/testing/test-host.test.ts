import { AssertionError } from "node:assert";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineTool } from "../../../src/index.js";
import {
  connectClient,
  createTestHost,
  expectDenied,
  expectToolResult,
  mintToken,
  TEST_AUTHORITY,
  TEST_TENANT_ID,
} from "../../../src/testing/index.js";
import { MCP_HEADERS, rpc } from "../../fixtures/hosts.js";

const read = defineTool({
  name: "read",
  description: "Reads",
  scopes: ["Notes.Read"],
  roles: ["Notes.Reader"],
  handler: (_args, ctx) => `read by ${ctx.user.id}`,
});
const write = defineTool({
  name: "write",
  description: "Writes",
  input: { text: z.string() },
  scopes: ["Notes.Write"],
  handler: ({ text }) => `wrote ${text}`,
});
const open = defineTool({
  name: "open",
  description: "Anyone signed in",
  output: { tenant: z.string() },
  handler: (_args, ctx) => ({ tenant: ctx.user.tenantId ?? "" }),
});

const host = createTestHost({ tools: [read, write, open] });
afterAll(() => host.close());
afterEach(() => vi.restoreAllMocks());

const post = (body: string, token?: string) =>
  host.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: { ...MCP_HEADERS, ...(token !== undefined && { authorization: `Bearer ${token}` }) },
      body,
    }),
  );

describe("createTestHost", () => {
  it("validates its tokens with the Entra rules, with no network at all", async () => {
    const network = vi.spyOn(globalThis, "fetch");
    const client = await connectClient(host, { token: await host.mintToken() });
    // Default token: every scope the host declares.
    const text = expectToolResult(await client.callTool({ name: "read", arguments: {} }), /^read by /);
    expect(text).toMatch(new RegExp(`^read by ${TEST_TENANT_ID}:[0-9a-f-]{36}$`));
    expectToolResult(await client.callTool({ name: "write", arguments: { text: "x" } }), "wrote x");
    expect(network).not.toHaveBeenCalled();
    await client.close();
  });

  it("publishes Protected Resource Metadata naming the in-process authority", async () => {
    const response = await host.fetch(
      new Request("http://localhost/.well-known/oauth-protected-resource/mcp"),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      resource: "http://localhost/mcp",
      authorization_servers: [`${TEST_AUTHORITY}/${TEST_TENANT_ID}/v2.0`],
    });
    expect(host.identity.issuer).toBe(`${TEST_AUTHORITY}/${TEST_TENANT_ID}/v2.0`);
  });

  it("answers 403 insufficient_scope with the fully qualified scope to step up to", async () => {
    const token = await host.mintToken({ scopes: ["Notes.Read"] });
    const denial = await expectDenied(
      await post(rpc("tools/call", { name: "write", arguments: { text: "x" } }), token),
      { status: 403, scopes: ["Notes.Write"] },
    );
    expect(denial.scopes).toEqual([
      `api://${host.identity.clientId}/Notes.Read`,
      `api://${host.identity.clientId}/Notes.Write`,
    ]);
    expect(denial.resourceMetadata).toBe("http://localhost/.well-known/oauth-protected-resource/mcp");
  });

  it("refuses what Entra's rules refuse: no token, expired, other audience, other tenant", async () => {
    await expectDenied(await post(rpc("ping")), { status: 401 });
    const expired = await host.mintToken({ issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    await expectDenied(await post(rpc("ping"), expired), { status: 401, error: "invalid_token" });
    const foreign = await host.mintToken({ claims: { aud: "00000000-0000-0000-0000-000000000001" } });
    await expectDenied(await post(rpc("ping"), foreign), { status: 401, error: "invalid_token" });
    const otherTenant = await host.mintToken({ tenant: "44444444-4444-4444-8444-444444444444" });
    await expectDenied(await post(rpc("ping"), otherTenant), { status: 401, error: "invalid_token" });
  });

  it("serves app-only callers by role", async () => {
    const client = await connectClient(host, {
      token: await host.mintToken({ appOnly: true, roles: ["Notes.Reader"] }),
    });
    expectToolResult(await client.callTool({ name: "read", arguments: {} }), /:[0-9a-f-]{36}$/);
    await expectDenied(client.callTool({ name: "write", arguments: { text: "x" } }), {
      scopes: ["Notes.Write"],
    });
    await client.close();
  });

  it("accepts any tenant when configured for organizations, and v1 tokens when asked", async () => {
    const multi = createTestHost({
      tools: [open],
      azureAd: { tenantId: "organizations", tokenVersions: [1, 2] },
    });
    const tenant = "44444444-4444-4444-8444-444444444444";
    for (const version of [1, 2] as const) {
      const client = await connectClient(multi, { token: await multi.mintToken({ tenant, version }) });
      expectToolResult(await client.callTool({ name: "open", arguments: {} }), { structured: { tenant } });
      await client.close();
    }
    await multi.close();
  });

  it("mintToken (standalone) mints for the default test identity", async () => {
    const client = await connectClient(host, { token: await mintToken({ scopes: ["Notes.Read"] }) });
    expectToolResult(await client.callTool({ name: "read", arguments: {} }), /^read by/);
    await client.close();
    const bare = await connectClient(host, { token: await mintToken() });
    expectToolResult(await bare.callTool({ name: "open", arguments: {} }), {
      structured: { tenant: TEST_TENANT_ID },
    });
    await bare.close();
  });

  it("refuses azureAd inside config, and NODE_ENV=production", () => {
    expect(() =>
      createTestHost({
        config: { azureAd: { tenantId: "organizations", clientId: TEST_TENANT_ID } } as never,
      }),
    ).toThrow(/azureAd/);
    vi.stubEnv("NODE_ENV", "production");
    try {
      expect(() => createTestHost()).toThrow(expect.objectContaining({ code: "ERR_UNSAFE_START" }));
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("assertions", () => {
  const result = (text: string, extra: Record<string, unknown> = {}) => ({
    content: [{ type: "text", text }],
    ...extra,
  });

  it("expectToolResult checks text, pattern, structured content and tool errors", () => {
    expect(expectToolResult(result("a"), "a")).toBe("a");
    expect(() => expectToolResult(result("a"), "b")).toThrow(AssertionError);
    expect(() => expectToolResult(result("a"), /b/)).toThrow(/does not match/);
    expect(() => expectToolResult(result("oops", { isError: true }), "oops")).toThrow(
      /returned an error: oops/,
    );
    expect(expectToolResult(result("oops", { isError: true }), { isError: true, text: "oops" })).toBe("oops");
    expect(() =>
      expectToolResult(result("a", { structuredContent: { n: 1 } }), { structured: { n: 2 } }),
    ).toThrow(/structuredContent differs/);
  });

  it("expectDenied fails when the call succeeds, or fails for another reason", async () => {
    await expect(expectDenied(Promise.resolve({ content: [] }))).rejects.toThrow(/it succeeded/);
    await expect(expectDenied(Promise.reject(new Error("boom")))).rejects.toThrow(
      /failed otherwise: Error: boom/,
    );
    const token = await host.mintToken({ scopes: ["Notes.Read"] });
    await expect(
      expectDenied(await post(rpc("tools/call", { name: "write", arguments: { text: "x" } }), token), {
        scopes: ["Notes.Admin"],
      }),
    ).rejects.toThrow(/does not name Notes.Admin/);
    await expect(expectDenied(await post(rpc("ping")), { status: 403 })).rejects.toThrow(
      /expected HTTP 403, got 401/,
    );
  });
});
