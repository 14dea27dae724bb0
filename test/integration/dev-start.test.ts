import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, urlOf, type Spawned } from "../fixtures/cli.js";
import { MCP_HEADERS, rpc } from "../fixtures/hosts.js";

/** `npm start` is `paved dev` on the weather example: this is what a newcomer gets. */
let cli: Spawned;
let url: URL;
let token: string;

beforeAll(async () => {
  cli = runCli(["dev", "examples/dist/weather/server.js"], { PORT: "0" });
  url = await urlOf(cli);
  const deadline = Date.now() + 10_000;
  while (!/bearer token for alice[^\n]*\n\s+(\S+)/.test(cli.stdout()) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 25));
  token = /bearer token for alice[^\n]*\n\s+(\S+)/.exec(cli.stdout())?.[1] ?? "";
  expect(token.split(".")).toHaveLength(3);
});

afterAll(async () => {
  cli.child.kill("SIGTERM");
  expect(await cli.exited).toBe(0);
});

describe("npm start (paved dev on the weather example)", () => {
  it.each(["legacy", "modern"] as const)(
    "the printed token works with the official client (%s era)",
    async (era) => {
      const client = new Client(
        { name: "newcomer", version: "1" },
        era === "modern" ? { versionNegotiation: { mode: "auto" } } : {},
      );
      await client.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      const weather = await client.callTool({ name: "get_weather", arguments: { city: "Oslo" } });
      expect(weather.content).toEqual([{ type: "text", text: "Weather in Oslo, US: Sunny, 72°F" }]);
      const whoami = await client.callTool({ name: "whoami", arguments: {} });
      expect(whoami.structuredContent).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}:[0-9a-f-]{36}$/),
        isAppOnly: false,
        name: expect.any(String),
      });
      expect((whoami.structuredContent as { scopes: string[] }).scopes).toContain("Weather.Read");
      await client.close();
    },
  );

  it("refuses calls without a token with a challenge that leads to the development provider", async () => {
    const response = await fetch(url, { method: "POST", headers: MCP_HEADERS, body: rpc("tools/list") });
    expect(response.status).toBe(401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${url.origin}/.well-known/oauth-protected-resource/mcp`);
    const metadata = (await (await fetch(metadataUrl!)).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    expect(metadata.resource).toBe(url.href);
    expect(metadata.authorization_servers).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/v2\.0$/),
    ]);
    expect(cli.stdout()).toContain(`issuer:               ${metadata.authorization_servers[0]}`);
  });
});

describe("paved doctor", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "paved-doctor-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 1 and lists each trap of a bad production configuration", async () => {
    const file = join(dir, "bad.json");
    await writeFile(
      file,
      JSON.stringify({
        azureAd: {
          instance: "http://127.0.0.1:4000/",
          tenantId: "organizations",
          clientId: "00000000-0000-0000-0000-0000000000aa",
          tokenVersions: [1, 2],
        },
        server: { resourceHost: "http://127.0.0.1:8080", supportedScopes: ["Weather.Read"] },
      }),
    );
    const doctor = runCli(["doctor", file]);
    expect(await doctor.exited).toBe(1);
    for (const id of [
      "dev-identity-provider",
      "resource-host-not-https",
      "bare-scope",
      "v1-tokens",
      "multi-tenant-unrestricted",
      "resource-not-application-id-uri",
    ]) {
      expect(doctor.stdout()).toContain(`${id}:`);
    }
  });

  it("exits 0 for a sound configuration", async () => {
    const file = join(dir, "good.json");
    await writeFile(
      file,
      JSON.stringify({
        azureAd: {
          tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
          clientId: "00000000-0000-0000-0000-0000000000aa",
          applicationIdUri: "https://mcp.contoso.com/mcp",
        },
        server: {
          resourceHost: "https://mcp.contoso.com",
          supportedScopes: ["https://mcp.contoso.com/mcp/Weather.Read"],
        },
      }),
    );
    const doctor = runCli(["doctor", file]);
    expect(await doctor.exited).toBe(0);
    expect(doctor.stdout()).toContain("paved doctor: no problems found.");
  });
});
