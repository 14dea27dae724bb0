import { describe, expect, it } from "vitest";
import { diagnose, formatFindings } from "../../../src/cli/doctor.js";
import { parseConfig } from "../../../src/config/load.js";
import type { PavedConfigInput } from "../../../src/config/schema.js";

const CID = "00000000-0000-0000-0000-0000000000aa";
const TID = "11111111-1111-1111-1111-111111111111";
const GOOD: PavedConfigInput = {
  azureAd: { tenantId: TID, clientId: CID, applicationIdUri: "https://mcp.contoso.com/mcp" },
  server: {
    resourceHost: "https://mcp.contoso.com",
    supportedScopes: ["https://mcp.contoso.com/mcp/Weather.Read"],
  },
};

const ids = (input: PavedConfigInput): string[] =>
  diagnose(parseConfig(input)).map((finding) => `${finding.severity}:${finding.id}`);

describe("paved doctor", () => {
  it("finds nothing wrong with a well-formed Entra configuration", () => {
    expect(ids(GOOD)).toEqual([]);
    expect(formatFindings([])).toBe("paved doctor: no problems found.");
  });

  it.each<[string, PavedConfigInput, string]>([
    ["no identity provider", { server: GOOD.server! }, "error:no-identity"],
    [
      "no resourceHost",
      { ...GOOD, server: { supportedScopes: GOOD.server!.supportedScopes! } },
      "error:resource-host-missing",
    ],
    [
      "resourceHost not https",
      { ...GOOD, server: { ...GOOD.server, resourceHost: "http://127.0.0.1:8080" } },
      "error:resource-host-not-https",
    ],
    [
      "MCP URL is not the Application ID URI",
      { ...GOOD, azureAd: { tenantId: TID, clientId: CID } },
      "warning:resource-not-application-id-uri",
    ],
    [
      "bare scope names (Entra assumes Graph)",
      { ...GOOD, server: { ...GOOD.server, supportedScopes: ["Weather.Read"] } },
      "error:bare-scope",
    ],
    [
      ".default mixed with explicit scopes",
      {
        ...GOOD,
        server: {
          ...GOOD.server,
          supportedScopes: [
            "https://mcp.contoso.com/mcp/.default",
            "https://mcp.contoso.com/mcp/Weather.Read",
          ],
        },
      },
      "error:default-mixed",
    ],
    [
      "v1 tokens accepted",
      { ...GOOD, azureAd: { ...GOOD.azureAd!, tokenVersions: [1, 2] } },
      "warning:v1-tokens",
    ],
    [
      "dev provider in a production config",
      { ...GOOD, azureAd: { ...GOOD.azureAd!, instance: "http://127.0.0.1:4000/" } },
      "error:dev-identity-provider",
    ],
    [
      "multi-tenant without tenant restrictions",
      { ...GOOD, azureAd: { ...GOOD.azureAd!, tenantId: "organizations" } },
      "warning:multi-tenant-unrestricted",
    ],
    [
      "loopback OIDC issuer",
      { oidc: { issuer: "http://localhost:9000" }, server: GOOD.server! },
      "error:loopback-issuer",
    ],
  ])("catches: %s", (_name, input, expected) => {
    expect(ids(input)).toContain(expected);
  });

  it("an allow-list of tenants silences the multi-tenant warning", () => {
    expect(
      ids({ ...GOOD, azureAd: { ...GOOD.azureAd!, tenantId: "organizations", allowedTenants: [TID] } }),
    ).toEqual([]);
  });

  it("formats errors before warnings with a summary line", () => {
    const text = formatFindings(
      diagnose(
        parseConfig({
          ...GOOD,
          azureAd: { tenantId: "organizations", clientId: CID },
          server: { supportedScopes: ["Read"] },
        }),
      ),
    );
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^ERROR {3}/);
    expect(lines.at(-1)).toMatch(/^paved doctor: 2 error\(s\), 1 warning\(s\)\.$/);
  });
});
