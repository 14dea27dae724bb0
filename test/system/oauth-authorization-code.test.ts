/**
 * End to end, delegated: authorization code + PKCE through the development identity provider's
 * consent page, driven by real headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core; no browser is ever downloaded), with the official MCP client's
 * `OAuthClientProvider` flow, dynamic client registration, and SEP-2350 step-up on 403
 * `insufficient_scope`. Loopback only.
 *
 * Without /usr/bin/chromium the suite is skipped locally (with the reason in its name) and fails
 * under CI, whose .ci/run installs Chromium first.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { decodeJwt } from "jose";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpHost, defineTool } from "paved-mcp";
import { createDevIdentityProvider, type DevIdentityProvider } from "paved-mcp/dev";
import { serve, type RunningServer } from "paved-mcp/node";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs } from "../fixtures/hosts.js";

/** Log lines at warn level or above (the host's info-level audit lines are expected and ignored). */
function warnings(lines: readonly string[]): string[] {
  return lines.filter((line) =>
    ["warn", "error", "fatal"].includes(String((JSON.parse(line) as { level?: unknown }).level)),
  );
}

const CHROMIUM = "/usr/bin/chromium";
const ON_CI = (process.env["CI"] ?? "") !== "";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const SKIP_REASON =
  !HAS_CHROMIUM && !ON_CI
    ? `${CHROMIUM} is not installed (apt-get install chromium); under CI this is a failure`
    : undefined;
if (SKIP_REASON !== undefined) console.warn(`oauth-authorization-code.test.ts skipped: ${SKIP_REASON}`);

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A free loopback port: the MCP URL must be known before the host exists, because it is the Application ID URI. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => resolve());
  });
  const address = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address.port;
}

/** The client's loopback redirect receiver (RFC 8252 §7.3): hands over each callback's query. */
async function startRedirectReceiver(): Promise<{
  readonly redirectUrl: string;
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}> {
  const arrived: URLSearchParams[] = [];
  const waiting: ((params: URLSearchParams) => void)[] = [];
  const server: Server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (request.method !== "GET" || url.pathname !== "/callback") {
      response.writeHead(404).end();
      return;
    }
    const waiter = waiting.shift();
    if (waiter === undefined) arrived.push(url.searchParams);
    else waiter(url.searchParams);
    response
      .writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'",
      })
      .end("<!doctype html><title>Signed in</title><p>Signed in. You can close this window.</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    redirectUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    next: () => {
      const ready = arrived.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise<URLSearchParams>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no authorization callback within 15 s")), 15_000);
        waiting.push((params) => {
          clearTimeout(timer);
          resolve(params);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A public client as an interactive app implements it: in-memory storage for what the SDK asks it
 * to keep, its own `state` values, and `redirectToAuthorization` opening the page in the browser.
 */
class BrowserClient implements OAuthClientProvider {
  readonly authorizationUrls: URL[] = [];
  readonly states: string[] = [];
  private info: StoredOAuthClientInformation | undefined;
  private stored: StoredOAuthTokens | undefined;
  private verifier = "";
  private discovery: OAuthDiscoveryState | undefined;

  constructor(
    readonly redirectUrl: string,
    private readonly page: Page,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "Paved system test (Chromium)",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  state(): string {
    const state = randomBytes(16).toString("base64url");
    this.states.push(state);
    return state;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: StoredOAuthClientInformation) {
    this.info = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.stored = tokens;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    await this.page.goto(url.href);
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  // Lets the SDK bind the callback leg to the authorization server it discovered (SEP-2352).
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
}

const getForecast = defineTool({
  name: "get_forecast",
  description: "Reads the forecast (delegated scope Weather.Read)",
  scopes: ["Weather.Read"],
  handler: (_args, ctx) => `forecast for ${ctx.user.username ?? ctx.user.id}`,
});

const setForecast = defineTool({
  name: "set_forecast",
  description: "Changes the forecast (delegated scope Weather.Write)",
  scopes: ["Weather.Write"],
  handler: (_args, ctx) => `forecast changed by ${ctx.user.username ?? ctx.user.id}`,
});

describe.skipIf(SKIP_REASON !== undefined)(
  `authorization code + PKCE in headless Chromium, then step-up${SKIP_REASON === undefined ? "" : ` (skipped: ${SKIP_REASON})`}`,
  () => {
    let root: string;
    let provider: DevIdentityProvider;
    let running: RunningServer;
    let receiver: Awaited<ReturnType<typeof startRedirectReceiver>>;
    let browser: BrowserContext;
    let page: Page;
    let mcpUrl: string;
    let logs: string[];
    /** Every HTTP exchange, in order: the MCP client's (`client`) and Chromium's (`browser`). */
    const exchanges: { by: "client" | "browser"; line: string; form?: Record<string, string> }[] = [];

    const name = (url: string) =>
      url
        .replace(new URL(mcpUrl).origin, "{mcp}")
        .replace(provider.url, "{idp}")
        .replace(new URL(receiver.redirectUrl).origin, "{redirect}")
        .replace(/\?.*$/, "?…");

    const recordingFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const isForm = (request.headers.get("content-type") ?? "").startsWith(
        "application/x-www-form-urlencoded",
      );
      const form = isForm ? Object.fromEntries(new URLSearchParams(await request.clone().text())) : undefined;
      const response = await fetch(request);
      exchanges.push({
        by: "client",
        line: `${request.method} ${name(request.url)} → ${response.status}`,
        ...(form !== undefined && { form }),
      });
      return response;
    };

    const scope = (short: string) => `${mcpUrl}/${short}`;

    beforeAll(async () => {
      if (!HAS_CHROMIUM)
        throw new Error(
          `CI is set but ${CHROMIUM} is missing: .ci/run must install it (apt-get install chromium)`,
        );
      root = await mkdtemp(join(tmpdir(), "paved-system-code-"));
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      mcpUrl = `${origin}/mcp`;
      // Entra semantics: RFC 8707 `resource` (the MCP URL) must equal the Application ID URI.
      provider = await createDevIdentityProvider({
        stateDir: join(root, ".paved"),
        applicationIdUri: mcpUrl,
        scopes: ["Weather.Read", "Weather.Write"],
      });
      const captured = captureLogs();
      logs = captured.lines;
      const host = createMcpHost({
        config: {
          azureAd: provider.azureAdConfig(),
          // Both scopes are offered up front, so the user can grant less than asked (only Read) and
          // the client must step up later. Named scopes, not `.default`: Entra refuses a request that
          // mixes `.default` with named scopes of the same API, which a step-up union would do.
          server: { resourceHost: origin, supportedScopes: [scope("Weather.Read"), scope("Weather.Write")] },
        },
        server: { name: "code-system", version: "1.0.0" },
        tools: [getForecast, setForecast],
        logger: createLogger({ level: "warn", serviceName: "code-system", destination: captured.stream }),
      });
      running = await serve(host, { port, handleSignals: false });
      receiver = await startRedirectReceiver();
      browser = await chromium.launchPersistentContext(join(root, "chromium-profile"), {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      page = await browser.newPage();
      page.on("response", (response) => {
        exchanges.push({
          by: "browser",
          line: `${response.request().method()} ${name(response.url())} → ${response.status()}`,
        });
      });
    });

    afterAll(async () => {
      await browser?.close();
      await receiver?.close();
      await running?.close();
      await provider?.close();
      if (root !== undefined) {
        if (process.env["PAVED_KEEP_SCREENSHOTS"] === undefined)
          await rm(root, { recursive: true, force: true });
        else console.info(`consent page screenshots kept in ${root}`);
      }
    });

    /**
     * The user's part on the consent page: pick `user`, tick exactly `grant` among the permissions
     * offered, screenshot, consent. Returns what the page offered and the query the redirect delivered.
     */
    async function consent(
      user: string,
      grant: readonly string[],
      screenshot: string,
    ): Promise<{ offered: string[]; callback: URLSearchParams; png: Buffer }> {
      await page.waitForSelector("form button[value=consent]");
      const offered = await page
        .locator('input[type=checkbox][name="scope"]')
        .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
      await page.locator(`input[type=radio][name="user"][value="${user}"]`).check();
      for (const value of offered)
        await page.locator(`input[name="scope"][value="${value}"]`).setChecked(grant.includes(value));
      const path = join(root, screenshot);
      await page.screenshot({ path, fullPage: true });
      const callback = receiver.next();
      await page.locator("form button[value=consent]").click();
      const params = await callback;
      await page.waitForURL((url) => url.href.startsWith(receiver.redirectUrl));
      return { offered, callback: params, png: await readFile(path) };
    }

    it(
      "signs alice in with Weather.Read only, then steps up to Weather.Write",
      { timeout: 45_000 },
      async () => {
        const oauth = new BrowserClient(receiver.redirectUrl, page);

        // 1. The first connection: 401 → discovery → registration → the consent page opens in Chromium.
        const first = new Client({ name: "code-system-client", version: "1.0.0" });
        const firstTransport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
          authProvider: oauth,
          fetch: recordingFetch,
        });
        await expect(first.connect(firstTransport)).rejects.toBeInstanceOf(UnauthorizedError);
        expect(oauth.authorizationUrls).toHaveLength(1);
        const firstRequest = oauth.authorizationUrls[0]!;
        expect(firstRequest.searchParams.get("resource")).toBe(mcpUrl);
        expect(firstRequest.searchParams.get("code_challenge_method")).toBe("S256");
        expect(firstRequest.searchParams.get("scope")?.split(" ")).toEqual([
          scope("Weather.Read"),
          scope("Weather.Write"),
          "offline_access",
        ]);
        expect(page.url()).toBe(firstRequest.href);

        // 2. Alice grants Weather.Read and not Weather.Write (offline_access, not an API permission, stays).
        const signIn = await consent("alice", [scope("Weather.Read"), "offline_access"], "consent-1.png");
        expect(signIn.offered).toEqual([scope("Weather.Read"), scope("Weather.Write"), "offline_access"]);
        expect(signIn.png.subarray(0, 8)).toEqual(
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        );
        expect(signIn.callback.get("state")).toBe(oauth.states[0]);
        expect(signIn.callback.get("iss")).toBe(provider.issuer);
        expect(signIn.callback.get("code")).toBeTruthy();
        await firstTransport.finishAuth(signIn.callback);
        await first.close();
        expect(decodeJwt(oauth.tokens()!.access_token)).toMatchObject({
          scp: "Weather.Read",
          preferred_username: "alice@paved.test",
          aud: provider.clientId,
          iss: provider.issuer,
          ver: "2.0",
        });
        expect(oauth.tokens()?.refresh_token).toBeTruthy();

        // 3. Reconnect with the token: Weather.Read suffices for get_forecast.
        const client = new Client({ name: "code-system-client", version: "1.0.0" });
        const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
          authProvider: oauth,
          fetch: recordingFetch,
        });
        await client.connect(transport);
        const read = await client.callTool({ name: "get_forecast", arguments: {} });
        expect(read.content).toEqual([{ type: "text", text: "forecast for alice@paved.test" }]);
        const beforeStepUp = exchanges.length;

        // 4. Step-up: set_forecast needs Weather.Write → 403 insufficient_scope → the client asks again
        //    with the union of what it holds and what the challenge names (not a refresh: that cannot widen).
        await expect(client.callTool({ name: "set_forecast", arguments: {} })).rejects.toBeInstanceOf(
          UnauthorizedError,
        );
        expect(oauth.authorizationUrls).toHaveLength(2);
        const stepUpRequest = oauth.authorizationUrls[1]!;
        const requested = stepUpRequest.searchParams.get("scope")?.split(" ") ?? [];
        expect(requested).toEqual(expect.arrayContaining([scope("Weather.Read"), scope("Weather.Write")]));
        expect(stepUpRequest.searchParams.get("resource")).toBe(mcpUrl);
        expect(stepUpRequest.searchParams.get("client_id")).toBe(firstRequest.searchParams.get("client_id"));

        const stepUp = await consent(
          "alice",
          [scope("Weather.Read"), scope("Weather.Write"), "offline_access"],
          "consent-2.png",
        );
        expect(stepUp.offered).toEqual(
          expect.arrayContaining([scope("Weather.Read"), scope("Weather.Write")]),
        );
        expect(stepUp.callback.get("state")).toBe(oauth.states[1]);
        await transport.finishAuth(stepUp.callback);
        expect(decodeJwt(oauth.tokens()!.access_token)).toMatchObject({
          scp: "Weather.Read Weather.Write",
          preferred_username: "alice@paved.test",
        });

        // 5. The retried call succeeds on the same connection.
        const write = await client.callTool({ name: "set_forecast", arguments: {} });
        expect(write.content).toEqual([{ type: "text", text: "forecast changed by alice@paved.test" }]);
        await client.close();

        const tenant = provider.tenantId;
        const lines = exchanges.map((exchange) => `${exchange.by}: ${exchange.line}`);
        // The first sign-in: discovery from the 401, registration, the browser's consent round trip,
        // the code exchange; then the reconnection and the Weather.Read call.
        expect(lines.slice(0, beforeStepUp)).toEqual([
          "client: POST {mcp}/mcp → 401",
          "client: GET {mcp}/.well-known/oauth-protected-resource/mcp → 200",
          `client: GET {idp}/.well-known/oauth-authorization-server/${tenant}/v2.0 → 200`,
          "client: POST {idp}/register → 201",
          `browser: GET {idp}/${tenant}/oauth2/v2.0/authorize?… → 200`,
          `browser: POST {idp}/${tenant}/oauth2/v2.0/authorize → 303`,
          "browser: GET {redirect}/callback?… → 200",
          `client: POST {idp}/${tenant}/oauth2/v2.0/token → 200`,
          "client: POST {mcp}/mcp → 200",
          "client: POST {mcp}/mcp → 202",
          "client: GET {mcp}/mcp → 405",
          "client: POST {mcp}/mcp → 200",
        ]);
        // The step-up: 403, a new authorization request in the browser, the code exchange, the retry.
        expect(lines.slice(beforeStepUp)).toEqual([
          "client: POST {mcp}/mcp → 403",
          `browser: GET {idp}/${tenant}/oauth2/v2.0/authorize?… → 200`,
          `browser: POST {idp}/${tenant}/oauth2/v2.0/authorize → 303`,
          "browser: GET {redirect}/callback?… → 200",
          `client: POST {idp}/${tenant}/oauth2/v2.0/token → 200`,
          "client: POST {mcp}/mcp → 200",
        ]);
        const tokenRequests = exchanges.flatMap((exchange) =>
          exchange.form === undefined ? [] : [exchange.form],
        );
        expect(tokenRequests.map((form) => form["grant_type"])).toEqual([
          "authorization_code",
          "authorization_code",
        ]);
        expect(
          tokenRequests.every((form) => form["resource"] === mcpUrl && form["code_verifier"] !== undefined),
        ).toBe(true);
        expect(warnings(logs)).toEqual([]);
      },
    );
  },
);
