import { afterEach, describe, expect, it } from "vitest";
import { InvalidTokenError, defineTool, type McpHost, type TokenValidator } from "../../../src/index.js";
import { MCP_HEADERS, rpc, testHost } from "../../fixtures/hosts.js";

/** Accepts exactly one token; everything else is invalid. Counts calls to prove what reached it. */
function singleTokenValidator(): TokenValidator & { calls: number } {
  return {
    calls: 0,
    validate(token) {
      this.calls++;
      if (token === "good.token.sig") {
        return Promise.resolve({
          principal: {
            id: "t1:u1",
            tenantId: "t1",
            objectId: "u1",
            scopes: ["Read"],
            roles: [],
            isAppOnly: false,
            claims: {},
          },
          expiresAt: Math.floor(Date.now() / 1000) + 600,
        });
      }
      if (token === "crash") return Promise.reject(new Error("validator bug"));
      return Promise.reject(new InvalidTokenError("signature", "The access token signature is invalid"));
    },
  };
}

let host: McpHost;
afterEach(async () => {
  await host.close();
});

function call(headers: Record<string, string> = {}, url = "http://localhost/mcp"): Promise<Response> {
  return host.fetch(
    new Request(url, {
      method: "POST",
      headers: { ...MCP_HEADERS, ...headers },
      body: rpc("tools/call", { name: "echo", arguments: { text: "hi" } }),
    }),
  );
}

describe("authentication (pipeline stage 5)", () => {
  it("AUTH-03: no credentials → 401 with a bare Bearer challenge, no error code", async () => {
    const validator = singleTokenValidator();
    ({ host } = testHost({}, { tokenValidator: validator, insecureNoAuth: undefined as never }));
    const response = await call();
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    const basic = await call({ authorization: "Basic dXNlcjpwYXNz" });
    expect(basic.status).toBe(401);
    expect(basic.headers.get("www-authenticate")).not.toContain("error=");
    expect(validator.calls).toBe(0);
  });

  it("AUTH-04: the scheme is case-insensitive and 1*SP may separate it from the token", async () => {
    const validator = singleTokenValidator();
    ({ host } = testHost({}, { tokenValidator: validator, insecureNoAuth: undefined as never }));
    expect((await call({ authorization: "bearer good.token.sig" })).status).toBe(200);
    expect((await call({ authorization: "Bearer  good.token.sig" })).status).toBe(200);
  });

  it("AUTH-05: empty credentials or a token in the query → 400 invalid_request", async () => {
    ({ host } = testHost({}, { tokenValidator: singleTokenValidator(), insecureNoAuth: undefined as never }));
    for (const response of [
      await call({ authorization: "Bearer" }),
      await call(
        { authorization: "Bearer good.token.sig" },
        "http://localhost/mcp?access_token=good.token.sig",
      ),
    ]) {
      expect(response.status).toBe(400);
      expect(response.headers.get("www-authenticate")).toMatch(
        /^Bearer error="invalid_request", error_description="[^"]+"$/,
      );
      expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
    }
  });

  it("AUTH-06: a token only in the query is never read: 401 with no error code", async () => {
    const validator = singleTokenValidator();
    ({ host } = testHost({}, { tokenValidator: validator, insecureNoAuth: undefined as never }));
    const response = await call({}, "http://localhost/mcp?access_token=good.token.sig");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    expect(validator.calls).toBe(0);
  });

  it("AUTH-07: a rejected token → 401 invalid_token; a malformed one never reaches the validator", async () => {
    const validator = singleTokenValidator();
    ({ host } = testHost({}, { tokenValidator: validator, insecureNoAuth: undefined as never }));
    const bad = await call({ authorization: "Bearer other.token.sig" });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toBe(
      'Bearer error="invalid_token", error_description="The access token signature is invalid"',
    );
    expect(validator.calls).toBe(1);
    for (const token of ["a,b", "tok en", "x".repeat(20_000), "ünïcode"]) {
      const response = await call({ authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    expect(validator.calls).toBe(1);
  });

  it("fails closed when the validator itself breaks, and logs no token", async () => {
    const validator = singleTokenValidator();
    const made = testHost({}, { tokenValidator: validator, insecureNoAuth: undefined as never });
    host = made.host;
    const response = await call({ authorization: "Bearer crash" });
    expect(response.status).toBe(401);
    expect(made.logs.lines.join("\n")).toContain("token validator failed");
  });

  it("AUTH-12: an unauthenticated tools/call never reaches the tool and opens no stream", async () => {
    ({ host } = testHost({}, { tokenValidator: singleTokenValidator(), insecureNoAuth: undefined as never }));
    const response = await call({ authorization: "Bearer nope" });
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/json");
  });

  it("the principal reaches the tool as ctx.user", async () => {
    const whoami = defineTool({
      name: "whoami",
      description: "who",
      handler: (_args, ctx) => `${ctx.user.id} ${ctx.user.scopes.join(",")}`,
    });
    ({ host } = testHost(
      {},
      { tokenValidator: singleTokenValidator(), insecureNoAuth: undefined as never, tools: [whoami] },
    ));
    const response = await host.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: { ...MCP_HEADERS, authorization: "Bearer good.token.sig" },
        body: rpc("tools/call", { name: "whoami", arguments: {} }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      result: { content: [{ type: "text", text: "t1:u1 Read" }] },
    });
  });
});
