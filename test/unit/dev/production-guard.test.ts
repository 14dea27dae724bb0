import { describe, expect, it } from "vitest";
import { parseConfig, type McpHost } from "paved-mcp";
import { productionProblems } from "../../../src/cli/commands.js";

function hostWith(azureAd: { instance: string }): McpHost {
  const config = parseConfig({
    server: { resourceHost: "https://mcp.contoso.com" },
    azureAd: {
      ...azureAd,
      tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      clientId: "00000000-0000-0000-0000-000000000001",
    },
  });
  return {
    info: { name: "t", version: "1", path: "/mcp", authentication: "required", stateless: true, config },
  } as unknown as McpHost;
}

describe("paved start and the development identity provider", () => {
  it("refuses a configuration whose azureAd.instance is on loopback", () => {
    for (const instance of ["http://127.0.0.1:4711/", "http://localhost:4711/", "https://127.0.0.1/"]) {
      expect(productionProblems(hostWith({ instance })), instance).toEqual([
        `azureAd.instance is the development identity provider (${instance}): point it at Entra ID, e.g. https://login.microsoftonline.com/`,
      ]);
    }
  });

  it("accepts Entra ID instances", () => {
    for (const instance of ["https://login.microsoftonline.com/", "https://login.microsoftonline.us/"])
      expect(productionProblems(hostWith({ instance }))).toEqual([]);
  });
});
