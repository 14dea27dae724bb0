import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "paved-mcp";
import { startDevEnvironment, type DevEnvironment } from "../../../src/dev/dev-environment.js";

const started: DevEnvironment[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const environment of started.splice(0)) await environment.provider.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function workspace(config?: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "paved-dev-env-"));
  dirs.push(dir);
  if (config !== undefined) await writeFile(join(dir, "paved.config.json"), JSON.stringify(config));
  return dir;
}

async function start(
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<DevEnvironment | undefined> {
  const environment = await startDevEnvironment(env, cwd);
  if (environment !== undefined) started.push(environment);
  return environment;
}

describe("paved dev's identity environment", () => {
  it("points the entry's configuration at the provider before it loads, and picks the MCP port up front", async () => {
    const cwd = await workspace();
    const env: Record<string, string | undefined> = {
      PORT: "0",
      PAVED_DEV_IDP_PORT: "0",
      PAVED_DEV_IDP_SCOPES: "Weather.Read,Weather.Write",
    };
    const environment = (await start(env, cwd))!;
    const { provider, mcpPort } = environment;
    expect(mcpPort).toBeGreaterThan(0);
    expect(env).toEqual({
      PORT: "0",
      PAVED_AZUREAD__INSTANCE: provider.instance,
      PAVED_AZUREAD__TENANTID: provider.tenantId,
      PAVED_AZUREAD__CLIENTID: provider.clientId,
      PAVED_AZUREAD__APPLICATIONIDURI: `http://127.0.0.1:${mcpPort}/mcp`,
      PAVED_SERVER__RESOURCEHOST: `http://127.0.0.1:${mcpPort}`,
    });
    // what the entry's loadConfig() then sees (PAVED_DEV_* were removed: unknown PAVED_ keys are errors)
    const config = await loadConfig({ env, cwd });
    expect(config.azureAd).toMatchObject({
      instance: provider.instance,
      tenantId: provider.tenantId,
      clientId: provider.clientId,
    });

    const banner = await environment.banner();
    expect(banner[0]).toBe(`Development identity provider (Entra-shaped, loopback only): ${provider.url}`);
    expect(banner.join("\n")).toContain(`client_secret=${provider.confidentialClient.clientSecret}`);
    expect(decodeJwt(banner.at(-1)!.trim())).toMatchObject({
      preferred_username: "alice@paved.test",
      scp: "Weather.Read Weather.Write",
      aud: provider.clientId,
    });
  });

  it("impersonates the app already configured: its IDs, Application ID URI, resource host, path and scopes", async () => {
    const cwd = await workspace({
      server: {
        resourceHost: "https://mcp.contoso.com",
        path: "/tools",
        supportedScopes: [
          "https://mcp.contoso.com/tools/Notes.Read",
          "https://mcp.contoso.com/tools/.default",
        ],
      },
      azureAd: {
        tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
        clientId: "00000000-0000-4000-8000-000000000009",
        tokenVersions: [1],
      },
    });
    const env: Record<string, string | undefined> = { PORT: "0" };
    const { provider } = (await start(env, cwd))!;
    expect([provider.tenantId, provider.clientId, provider.applicationIdUri]).toEqual([
      "72f988bf-86f1-41af-91ab-2d7cd011db47",
      "00000000-0000-4000-8000-000000000009",
      "https://mcp.contoso.com/tools",
    ]);
    expect(env["PAVED_SERVER__RESOURCEHOST"]).toBeUndefined();
    expect(decodeJwt(await provider.mintToken())).toMatchObject({ ver: "1.0", scp: "Notes.Read" });
  });

  it("stays out of the way of a host configured for a generic OIDC issuer", async () => {
    const cwd = await workspace({ oidc: { issuer: "https://auth.contoso.com" } });
    const env: Record<string, string | undefined> = { PORT: "0" };
    expect(await start(env, cwd)).toBeUndefined();
    expect(env).toEqual({ PORT: "0" });
  });
});
