import { describe, expect, it } from "vitest";
import { DevOAuthError } from "../../../src/dev/oauth-error.js";
import { checkResource, resolveScopes, type DevApp } from "../../../src/dev/scopes.js";

const APP: DevApp = {
  clientId: "22222222-2222-4222-8222-222222222222",
  applicationIdUri: "https://mcp.test/mcp",
  scopes: ["Weather.Read", "Weather.Write"],
  roles: ["Weather.Reader"],
};

function failure(run: () => unknown): DevOAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof DevOAuthError) return error;
    throw error;
  }
  throw new Error("expected a DevOAuthError");
}

describe("Entra scope resolution", () => {
  it("turns scopes qualified by the Application ID URI or the client ID into short names, and keeps OIDC scopes apart", () => {
    expect(resolveScopes("https://mcp.test/mcp/Weather.Read openid offline_access", APP)).toEqual({
      resource: ["Weather.Read"],
      usedDefault: false,
      oidc: ["openid", "offline_access"],
    });
    expect(resolveScopes(`${APP.clientId}/Weather.Write`, APP).resource).toEqual(["Weather.Write"]);
  });

  it("expands .default to every exposed scope", () => {
    expect(resolveScopes("https://mcp.test/mcp/.default", APP)).toEqual({
      resource: ["Weather.Read", "Weather.Write"],
      usedDefault: true,
      oidc: [],
    });
  });

  it("reads a bare scope as Microsoft Graph's, as Entra does (AADSTS650053), and names the qualified form", () => {
    const error = failure(() => resolveScopes("Weather.Read", APP));
    expect([error.error, error.aadsts]).toEqual(["invalid_scope", 650053]);
    expect(error.message).toContain("https://mcp.test/mcp/Weather.Read");
  });

  it("refuses another resource, an unexposed scope, .default mixed with named scopes, and OIDC scopes alone", () => {
    expect(failure(() => resolveScopes("https://graph.microsoft.com/User.Read", APP))).toMatchObject({
      error: "invalid_resource",
      aadsts: 500011,
    });
    expect(failure(() => resolveScopes("https://mcp.test/mcp/Admin", APP))).toMatchObject({
      error: "invalid_scope",
      aadsts: 650053,
    });
    expect(
      failure(() => resolveScopes("https://mcp.test/mcp/.default https://mcp.test/mcp/Weather.Read", APP)),
    ).toMatchObject({ error: "invalid_scope", aadsts: 70011 });
    expect(failure(() => resolveScopes("openid profile", APP))).toMatchObject({
      error: "invalid_scope",
      aadsts: 70011,
    });
    expect(failure(() => resolveScopes("", APP))).toMatchObject({ error: "invalid_request", aadsts: 900144 });
  });

  it("accepts RFC 8707 resource only when it equals the Application ID URI byte for byte (AADSTS9010010)", () => {
    expect(() => checkResource(undefined, APP)).not.toThrow();
    expect(() => checkResource("https://mcp.test/mcp", APP)).not.toThrow();
    for (const near of [
      "https://mcp.test/mcp/",
      "https://mcp.test",
      "https://MCP.test/mcp",
      `api://${APP.clientId}`,
    ]) {
      expect(failure(() => checkResource(near, APP))).toMatchObject({
        error: "invalid_target",
        aadsts: 9010010,
        status: 400,
      });
    }
  });

  it("keeps error descriptions inside the RFC 6749 character set", () => {
    const body = failure(() => resolveScopes('"quoted"\\scope\u00e9', APP)).body();
    expect(body["error_description"]).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
    expect(body["error_codes"]).toEqual([650053]);
  });
});
