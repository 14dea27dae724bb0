import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "paved-mcp";
import { createDevIdentityProvider, DEV_CLIENT_ID, DEV_TENANT_ID } from "paved-mcp/dev";
import { startProvider, tempStateDir } from "./support.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createDevIdentityProvider", () => {
  it("refuses to start with NODE_ENV=production (ERR_UNSAFE_START) before touching the disk or a port", async () => {
    vi.stubEnv("NODE_ENV", "production");
    await expect(createDevIdentityProvider({ stateDir: await tempStateDir() })).rejects.toMatchObject({
      code: "ERR_UNSAFE_START",
      message: expect.stringContaining("refuses to run with NODE_ENV=production"),
    });
  });

  it("listens on 127.0.0.1 and describes itself in Entra's shapes", async () => {
    const provider = await startProvider();
    expect(provider.url).toBe(`http://127.0.0.1:${provider.port}`);
    expect(provider.instance).toBe(`http://127.0.0.1:${provider.port}/`);
    expect(provider.issuer).toBe(`http://127.0.0.1:${provider.port}/${DEV_TENANT_ID}/v2.0`);
    expect([provider.tenantId, provider.clientId, provider.applicationIdUri]).toEqual([
      DEV_TENANT_ID,
      DEV_CLIENT_ID,
      `api://${DEV_CLIENT_ID}`,
    ]);
  });

  it("gives an azureAd section the host's configuration schema accepts as is", async () => {
    const provider = await startProvider({
      applicationIdUri: "http://127.0.0.1:8080/mcp",
      accessTokenVersion: 1,
    });
    const config = parseConfig({ azureAd: provider.azureAdConfig() });
    expect(config.azureAd).toMatchObject({
      instance: provider.instance,
      tenantId: provider.tenantId,
      clientId: provider.clientId,
      applicationIdUri: "http://127.0.0.1:8080/mcp",
      tokenVersions: [1],
    });
  });

  it("checks its options at construction", async () => {
    const stateDir = await tempStateDir();
    const bad: Parameters<typeof createDevIdentityProvider>[0][] = [
      { port: 70_000 },
      { host: "0.0.0.0" as "127.0.0.1" },
      { tenantId: "contoso.onmicrosoft.com" },
      { clientId: "not-a-guid" },
      { applicationIdUri: "api://x/" },
      { users: [] },
      { users: [{ id: "alice" }, { id: "alice" }] },
      { scopes: ["https://mcp.test/Weather.Read"] },
      { scopes: ["openid"] },
      { roles: ["has space"] },
    ];
    for (const options of bad)
      await expect(
        createDevIdentityProvider({ stateDir, ...options }),
        JSON.stringify(options),
      ).rejects.toThrow(TypeError);
  });
});
