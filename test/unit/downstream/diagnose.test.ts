import { describe, expect, it } from "vitest";
import { diagnose } from "../../../src/cli/doctor.js";
import { parseConfig } from "../../../src/config/load.js";
import type { PavedConfigInput } from "../../../src/config/schema.js";
import { clientSecretInUse } from "../../../src/downstream/diagnose.js";

const azureAd = {
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  clientId: "00000000-0000-0000-0000-000000000001",
};
const graph = {
  graph: { baseUrl: "https://graph.microsoft.com/v1.0/", scopes: ["https://graph.microsoft.com/User.Read"] },
};
const secret = { sourceType: "ClientSecret", clientSecret: "s3cr3t-value" } as const;
const file = { sourceType: "SignedAssertionFilePath" } as const;

const downstreamFindings = (input: PavedConfigInput, env: Record<string, string> = {}): string[] => {
  const saved = process.env["AZURE_FEDERATED_TOKEN_FILE"];
  if (env["AZURE_FEDERATED_TOKEN_FILE"] === undefined) delete process.env["AZURE_FEDERATED_TOKEN_FILE"];
  else process.env["AZURE_FEDERATED_TOKEN_FILE"] = env["AZURE_FEDERATED_TOKEN_FILE"];
  try {
    return diagnose(parseConfig(input))
      .filter((finding) => /downstream|secret/.test(finding.id))
      .map((finding) => `${finding.severity}:${finding.id}: ${finding.message}`);
  } finally {
    if (saved === undefined) delete process.env["AZURE_FEDERATED_TOKEN_FILE"];
    else process.env["AZURE_FEDERATED_TOKEN_FILE"] = saved;
  }
};

describe("paved doctor on downstream calls", () => {
  it("flags downstream APIs with no way to get tokens for them", () => {
    expect(downstreamFindings({ azureAd, downstream: graph })).toStrictEqual([
      "error:downstream-without-credentials: downstream (graph) is configured but azureAd.clientCredentials is not: add a managed identity, workload identity, Key Vault or certificate source.",
    ]);
    expect(
      downstreamFindings({ oidc: { issuer: "https://auth.contoso.com" }, downstream: graph }),
    ).toStrictEqual([
      "error:downstream-without-entra: downstream (graph) is configured but on-behalf-of needs Entra ID: configure azureAd.",
    ]);
  });

  it("flags a client secret, saying whether it is the source in use, and never prints it", () => {
    const inUse = downstreamFindings({
      azureAd: { ...azureAd, clientCredentials: [file, secret] },
      downstream: graph,
    });
    expect(inUse).toStrictEqual([
      "warning:client-secret: azureAd.clientCredentials[1] is a ClientSecret and the source in use: secrets are for development only; use a managed identity, workload identity or a certificate.",
    ]);
    const fallback = downstreamFindings(
      { azureAd: { ...azureAd, clientCredentials: [file, secret] } },
      { AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" },
    );
    expect(fallback).toStrictEqual([
      "warning:client-secret: azureAd.clientCredentials[1] is a ClientSecret (a fallback): secrets are for development only; remove it in production.",
    ]);
    expect([...inUse, ...fallback].join("\n")).not.toContain("s3cr3t-value");
  });

  it("is quiet for a managed identity", () => {
    expect(
      downstreamFindings({
        azureAd: {
          ...azureAd,
          clientCredentials: [
            {
              sourceType: "SignedAssertionFromManagedIdentity",
              managedIdentityClientId: "99999999-9999-4999-8999-999999999999",
            },
          ],
        },
        downstream: graph,
      }),
    ).toStrictEqual([]);
  });

  it("tells paved start when the client secret is what will be used", () => {
    expect(clientSecretInUse(parseConfig({ azureAd: { ...azureAd, clientCredentials: [secret] } }), {})).toBe(
      true,
    );
    expect(
      clientSecretInUse(parseConfig({ azureAd: { ...azureAd, clientCredentials: [file, secret] } }), {}),
    ).toBe(true);
    expect(
      clientSecretInUse(parseConfig({ azureAd: { ...azureAd, clientCredentials: [file, secret] } }), {
        AZURE_FEDERATED_TOKEN_FILE: "/t",
      }),
    ).toBe(false);
    expect(clientSecretInUse(parseConfig({ azureAd }), {})).toBe(false);
  });
});
