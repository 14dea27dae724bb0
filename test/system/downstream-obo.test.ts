import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_ASSERTION_TYPE,
  EMULATOR_CLIENT_ID,
  EMULATOR_TENANT_A,
  EMULATOR_TENANT_B,
  JWT_BEARER,
  createTestTls,
  startDownstreamApi,
  startEntraEmulator,
  startFakeImds,
  startFakeKeyVault,
  type DownstreamApi,
  type EntraEmulator,
  type FakeImds,
  type FakeKeyVault,
  type TestTls,
} from "../fixtures/entra-emulator.js";

/**
 * OBO end to end: the Paved host runs in a child process (NODE_EXTRA_CA_CERTS is only read at process
 * start, EMU-06), MSAL Node talks to the https Entra emulator for real, and the official MCP client
 * calls the tools. Each credential source makes one round trip whose token request is asserted field
 * by field (OBO-01, OBO-02, OBO-06) and whose downstream call carried the OBO token (OBO-03).
 */

const ENTRY = fileURLToPath(new URL("../fixtures/entries/downstream-host.mjs", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../fixtures/entries/downstream-example.mjs", import.meta.url));
const API_SCOPE = "api://downstream-app/Downstream.Read";
const MI_CLIENT_ID = "99999999-9999-4999-8999-999999999999";
const SECRET = "dev-only-secret-value-0123456789";
const USER_B_OID = "ffffffff-6666-4666-8666-ffffffffffff";

let tls: TestTls;
let clientCert: TestTls;
let emu: EntraEmulator;
let imds: FakeImds;
let vault: FakeKeyVault;
let api: DownstreamApi;
let dir: string;
/** Everything every child wrote, to search for secrets at the end (SEC-04). */
const output: string[] = [];
/** Everything secret the suite handled. */
const secrets = new Set<string>([SECRET]);

interface Child {
  readonly url: URL;
  readonly process: ChildProcessWithoutNullStreams;
  stop(): Promise<void>;
}

async function startHost(
  credentials: readonly Record<string, unknown>[],
  extra: { tenantId?: string; env?: Record<string, string>; entry?: string } = {},
): Promise<Child> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith("PAVED_") &&
        !key.startsWith("AZURE_") &&
        !["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"].includes(
          key,
        ),
    ),
  );
  const child = spawn(process.execPath, [extra.entry ?? ENTRY], {
    env: {
      ...base,
      NODE_EXTRA_CA_CERTS: tls.certPath,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.origin,
      PAVED_AZUREAD__INSTANCE: emu.instance,
      PAVED_AZUREAD__TENANTID: extra.tenantId ?? EMULATOR_TENANT_A,
      PAVED_AZUREAD__CLIENTID: EMULATOR_CLIENT_ID,
      PAVED_AZUREAD__CLIENTCREDENTIALS: JSON.stringify(credentials),
      PAVED_DOWNSTREAM: JSON.stringify({
        api: { baseUrl: api.baseUrl, scopes: [API_SCOPE] },
        slow: { baseUrl: api.baseUrl, scopes: [API_SCOPE], timeoutMs: 300 },
      }),
      PAVED_TELEMETRY__LOGLEVEL: "trace",
      ...extra.env,
    },
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  let url: URL | undefined;
  while (url === undefined && Date.now() < deadline && child.exitCode === null) {
    const match = /listening at (http:\/\/\S+)/.exec(out);
    if (match?.[1] !== undefined) url = new URL("mcp", match[1]);
    else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (url === undefined) {
    child.kill("SIGKILL");
    throw new Error(`the host did not start:\n${out}`);
  }
  return {
    url,
    process: child,
    stop: async () => {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      output.push(out);
    },
  };
}

interface ToolResult {
  readonly isError: boolean;
  readonly text: string;
}

async function call(
  host: Child,
  token: string,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolResult> {
  secrets.add(token);
  const client = new Client({ name: "obo-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(host.url, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name, arguments: args });
    const content = result.content as { type: string; text?: string }[];
    return { isError: result.isError === true, text: content.map((item) => item.text ?? "").join("") };
  } finally {
    await client.close();
    for (const issued of emu.issued) secrets.add(issued);
    for (const request of emu.tokenRequests) secrets.add(request.form["client_assertion"] ?? "");
  }
}

/** The form MSAL must send for an OBO exchange (OBO-01), plus the client authentication of the case. */
function expectOboForm(index: number, inbound: string, tenant: string, auth: Record<string, string>): void {
  const request = emu.tokenRequests[index];
  expect(request?.path).toBe(`/${tenant}/oauth2/v2.0/token`);
  expect(request?.tenant).toBe(tenant);
  const form = { ...request?.form };
  // MSAL's telemetry and correlation fields vary; the protocol fields are exact.
  for (const key of Object.keys(form))
    if (key.startsWith("x-") || key === "client-request-id") Reflect.deleteProperty(form, key);
  expect(form).toStrictEqual({
    grant_type: JWT_BEARER,
    client_id: EMULATOR_CLIENT_ID,
    assertion: inbound,
    requested_token_use: "on_behalf_of",
    scope: `${API_SCOPE} openid profile offline_access`,
    client_info: "1",
    ...auth,
  });
}

/** The downstream API saw the OBO token the emulator issued last, never the inbound token (OBO-03). */
function expectDownstreamSawObo(inbound: string): void {
  const last = api.seen.at(-1);
  const issued = emu.issued.at(-1);
  expect(issued).toBeDefined();
  expect(last?.authorization).toBe(`Bearer ${issued ?? ""}`);
  expect(last?.authorization).not.toContain(inbound);
  for (const seen of api.seen) expect(seen.authorization ?? "").not.toContain(inbound);
}

beforeAll(async () => {
  tls = createTestTls();
  clientCert = createTestTls("paved-downstream-client");
  emu = await startEntraEmulator(tls);
  imds = await startFakeImds();
  api = await startDownstreamApi(tls);
  vault = await startFakeKeyVault(tls, (bearer) =>
    imds.issued.some((item) => item.token === bearer && item.resource === "https://vault.azure.net"),
  );
  dir = mkdtempSync(join(tmpdir(), "paved-obo-"));
  emu.trustCertificate(clientCert.cert);
  emu.trustSecret(SECRET);
  emu.trustAssertion((assertion) =>
    imds.issued.some((item) => item.token === assertion && item.resource === "api://AzureADTokenExchange"),
  );
});

afterAll(async () => {
  await Promise.all([emu.close(), imds.close(), api.close(), vault.close()]);
  tls.remove();
  clientCert.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe("certificate (PEM file): the full OBO contract", () => {
  let host: Child;
  beforeAll(async () => {
    const pem = join(dir, "client.pem");
    writeFileSync(pem, `${clientCert.cert}\n${clientCert.key}`);
    secrets.add(
      clientCert.key
        .replace(/-----[A-Z ]+-----/g, "")
        .trim()
        .split("\n")[1] ?? "",
    );
    host = await startHost([{ sourceType: "Certificate", certificateDiskPath: pem }], {
      tenantId: "organizations",
    });
  });
  afterAll(() => host.stop());

  it("exchanges the caller's token at the caller's tenant and calls the API with the OBO token", async () => {
    emu.reset();
    const inbound = await emu.userToken();
    const result = await call(host, inbound, "call_api", { path: "/me" });
    expect(result).toStrictEqual({
      isError: false,
      text: `200 ${JSON.stringify({ oid: "dddddddd-4444-4444-8444-dddddddddddd", aud: "api://downstream-app", scp: "Downstream.Read" })}`,
    });
    expect(emu.tokenRequests).toHaveLength(1);
    expectOboForm(0, inbound, EMULATOR_TENANT_A, {
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: emu.tokenRequests[0]?.form["client_assertion"] ?? "",
    });
    // The assertion is a JWT signed by the certificate's key for this token endpoint (checked by the emulator).
    expect(emu.tokenRequests[0]?.form["client_assertion"]?.split(".")).toHaveLength(3);
    secrets.add(emu.tokenRequests[0]?.form["client_assertion"] ?? "");
    expectDownstreamSawObo(inbound);
  });

  it("serves the same user's next call from MSAL's cache, and a second user with a new exchange", async () => {
    emu.reset();
    const inbound = await emu.userToken();
    await call(host, inbound, "call_api", { path: "/me" });
    await call(host, inbound, "call_api", { path: "/me" });
    expect(emu.tokenRequests).toHaveLength(1);
    const other = await emu.userToken({ oid: USER_B_OID });
    const result = await call(host, other, "call_api", { path: "/me" });
    expect(result.text).toContain(USER_B_OID);
    expect(emu.tokenRequests).toHaveLength(2);
    expectOboForm(1, other, EMULATOR_TENANT_A, {
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: emu.tokenRequests[1]?.form["client_assertion"] ?? "",
    });
  });

  it("sends a caller from another tenant to that tenant's token endpoint, never /organizations/", async () => {
    emu.reset();
    const inbound = await emu.userToken({ tid: EMULATOR_TENANT_B });
    const result = await call(host, inbound, "call_api", { path: "/me" });
    expect(result.text).toMatch(/^200 /);
    expect(emu.tokenRequests.map((request) => request.path)).toStrictEqual([
      `/${EMULATOR_TENANT_B}/oauth2/v2.0/token`,
    ]);
  });

  it("gives an app-only caller a tool error and makes no token request", async () => {
    emu.reset();
    const seen = api.seen.length;
    const result = await call(host, await emu.appToken(), "call_api", { path: "/me" });
    expect(result).toStrictEqual({
      isError: true,
      text: "This tool acts on behalf of a signed-in user, and the caller is an application (an app-only token): call it with a user's token.",
    });
    expect(emu.tokenRequests).toHaveLength(0);
    expect(api.seen).toHaveLength(seen);
  });

  it("turns interaction_required into a tool error when the client did not declare cp1", async () => {
    emu.reset();
    emu.failNext({
      status: 400,
      body: {
        error: "interaction_required",
        error_description:
          "AADSTS50079: Due to a configuration change made by your administrator, you must enroll in multi-factor authentication.",
        error_codes: [50079],
        suberror: "basic_action",
        claims: '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}',
      },
    });
    const result = await call(
      host,
      await emu.userToken({ oid: "12121212-1212-4212-8212-121212121212" }),
      "call_api",
      { path: "/me" },
    );
    expect(result).toStrictEqual({
      isError: true,
      text: "The downstream API needs you to sign in again (multi-factor authentication or a conditional access policy). Sign in to this server again in your MCP client, then retry.",
    });
    expect(emu.tokenRequests).toHaveLength(1);
  });

  it("answers a claims challenge with HTTP 401 and the claims when the caller's client declared cp1", async () => {
    emu.reset();
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    emu.failNext({
      status: 400,
      body: {
        error: "interaction_required",
        error_description: "AADSTS50076: MFA required.",
        error_codes: [50076],
        claims,
      },
    });
    const inbound = await emu.userToken({ oid: "16161616-1616-4616-8616-161616161616", xms_cc: ["cp1"] });
    secrets.add(inbound);
    const response = await fetch(host.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${inbound}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "call_api", arguments: { path: "/me" } },
      }),
    });
    expect(response.status).toBe(401);
    const metadata = new URL("/.well-known/oauth-protected-resource/mcp", host.url).href;
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_claims", claims="${Buffer.from(claims).toString("base64")}", resource_metadata="${metadata}"`,
    );
    expect(await response.json()).toStrictEqual({
      error: "insufficient_claims",
      error_description:
        "The downstream API needs you to sign in again (multi-factor authentication or a conditional access policy). Sign in to this server again in your MCP client, then retry.",
    });
    expect(emu.tokenRequests).toHaveLength(1);
  });

  it("maps downstream 429, 500 and 403 to tool errors that leak nothing of the response", async () => {
    const inbound = await emu.userToken();
    expect(await call(host, inbound, "call_api", { path: "/status/429" })).toStrictEqual({
      isError: true,
      text: 'The downstream API "api" is throttling requests (HTTP 429); retry in 7 seconds.',
    });
    expect(await call(host, inbound, "call_api", { path: "/status/500" })).toStrictEqual({
      isError: true,
      text: 'The downstream API "api" failed (HTTP 500); retry later.',
    });
    expect(await call(host, inbound, "call_api", { path: "/status/403" })).toStrictEqual({
      isError: true,
      text: 'The downstream API "api" refused the call (HTTP 403): the signed-in user may lack access to it.',
    });
    expect(await call(host, inbound, "call_api", { path: "/status/404" })).toStrictEqual({
      isError: false,
      text: `404 ${JSON.stringify({ error: "from downstream", secret: "downstream-internal-detail" })}`,
    });
  });

  it("times out a downstream call at the API's timeoutMs", async () => {
    const result = await call(host, await emu.userToken(), "call_api", { path: "/slow", api: "slow" });
    expect(result).toStrictEqual({
      isError: true,
      text: 'The downstream API "slow" did not answer within 300 ms.',
    });
  });

  it("refuses URLs outside the API's baseUrl before any token request or egress (SSRF)", async () => {
    emu.reset();
    const seen = api.seen.length;
    const inbound = await emu.userToken({ oid: "14141414-1414-4414-8414-141414141414" });
    for (const path of [
      "http://[::ffff:169.254.169.254]/",
      "https://evil.example/api/me",
      `${api.origin}/other`,
      "//evil.example/x",
      "/../other",
      "/%2e%2e/other",
      "/redirect?to=https://evil.example/",
    ]) {
      expect(await call(host, inbound, "call_api", { path })).toStrictEqual({
        isError: true,
        text: 'Refused: the URL leaves the downstream API "api".',
      });
    }
    // Only the redirect case reached the API (it is under the base); it was not followed off it.
    expect(api.seen.slice(seen).map((item) => item.path)).toStrictEqual([
      "/api/redirect?to=https://evil.example/",
    ]);
    expect(emu.tokenRequests).toHaveLength(1);
  });

  it("follows a redirect that stays under the base, with the OBO token", async () => {
    const inbound = await emu.userToken();
    const result = await call(host, inbound, "call_api", { path: "/redirect?to=/api/me" });
    expect(result.text).toMatch(/^200 \{"oid":"dddddddd-4444-4444-8444-dddddddddddd"/);
    expect(api.seen.slice(-2).map((item) => item.path)).toStrictEqual([
      "/api/redirect?to=/api/me",
      "/api/me",
    ]);
    expectDownstreamSawObo(inbound);
  });

  it("gives authorizationHeader callers a token for any scope", async () => {
    emu.reset();
    const result = await call(host, await emu.userToken(), "header", { scope: "api://other-app/Other.Read" });
    expect(result).toStrictEqual({ isError: false, text: "got a bearer header" });
    expect(emu.tokenRequests[0]?.form["scope"]).toBe(
      "api://other-app/Other.Read openid profile offline_access",
    );
  });
});

describe("client secret (development only)", () => {
  it("authenticates with client_secret and no assertion", async () => {
    const host = await startHost([{ sourceType: "ClientSecret", clientSecret: SECRET }]);
    try {
      emu.reset();
      const inbound = await emu.userToken();
      expect(await call(host, inbound, "call_api", { path: "/me" })).toMatchObject({ isError: false });
      expectOboForm(0, inbound, EMULATOR_TENANT_A, { client_secret: SECRET });
      expectDownstreamSawObo(inbound);

      // Entra throttles: MSAL then holds back every request of this app for these scopes until
      // Retry-After passes (OBO-13), so this is the host's last call.
      emu.reset();
      emu.failNext({
        status: 429,
        body: {
          error: "temporarily_unavailable",
          error_description: "AADSTS50196: request throttled",
          error_codes: [50196],
        },
        headers: { "retry-after": "30" },
      });
      const throttled =
        "The server could not get a token for the downstream API right now (Entra ID throttled or unavailable); retry later.";
      const other = await emu.userToken({ oid: "13131313-1313-4313-8313-131313131313" });
      expect(await call(host, other, "call_api", { path: "/me" })).toStrictEqual({
        isError: true,
        text: throttled,
      });
      expect(
        await call(host, await emu.userToken({ oid: USER_B_OID }), "call_api", { path: "/me" }),
      ).toStrictEqual({
        isError: true,
        text: throttled,
      });
      expect(emu.tokenRequests).toHaveLength(1);
    } finally {
      await host.stop();
    }
  });
});

describe("workload identity token file", () => {
  it("sends the file as the assertion, follows its rotation, and refuses an empty file without a POST", async () => {
    const file = join(dir, "federated-token");
    const v1 = `fic-v1.${"a".repeat(40)}`;
    const v2 = `fic-v2.${"b".repeat(40)}`;
    secrets.add(v1).add(v2);
    emu.trustAssertion(v1);
    emu.trustAssertion(v2);
    writeFileSync(file, `${v1}\n`);
    const host = await startHost([{ sourceType: "SignedAssertionFilePath" }], {
      env: { AZURE_FEDERATED_TOKEN_FILE: file },
    });
    try {
      emu.reset();
      const first = await emu.userToken();
      expect(await call(host, first, "call_api", { path: "/me" })).toMatchObject({ isError: false });
      expectOboForm(0, first, EMULATOR_TENANT_A, {
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: v1,
      });
      expectDownstreamSawObo(first);

      // kubelet swaps in a new file: a newer mtime makes the next acquisition read it.
      writeFileSync(file, v2);
      const later = new Date(Date.now() + 60_000);
      utimesSync(file, later, later);
      const second = await emu.userToken({ oid: USER_B_OID });
      expect(await call(host, second, "call_api", { path: "/me" })).toMatchObject({ isError: false });
      expectOboForm(1, second, EMULATOR_TENANT_A, {
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: v2,
      });

      writeFileSync(file, "");
      const evenLater = new Date(Date.now() + 120_000);
      utimesSync(file, evenLater, evenLater);
      const third = await emu.userToken({ oid: "15151515-1515-4515-8515-151515151515" });
      expect(await call(host, third, "call_api", { path: "/me" })).toStrictEqual({
        isError: true,
        text: "The server could not authenticate itself to Entra ID for the downstream API. An administrator should check azureAd.clientCredentials and the server log.",
      });
      expect(emu.tokenRequests).toHaveLength(2);
    } finally {
      await host.stop();
    }
  });
});

describe("managed identity (federated credential)", () => {
  it("asks IMDS for an api://AzureADTokenExchange token and sends it as the assertion", async () => {
    const host = await startHost([
      { sourceType: "SignedAssertionFromManagedIdentity", managedIdentityClientId: MI_CLIENT_ID },
    ]);
    try {
      emu.reset();
      const inbound = await emu.userToken();
      expect(await call(host, inbound, "call_api", { path: "/me" })).toMatchObject({ isError: false });
      const mi = imds.issued.filter((item) => item.resource === "api://AzureADTokenExchange");
      expect(mi.length).toBeGreaterThanOrEqual(1);
      for (const item of imds.issued) secrets.add(item.token);
      expect(mi.every((item) => item.clientId === MI_CLIENT_ID)).toBe(true);
      const request = imds.requests.find((item) => item.query["resource"] === "api://AzureADTokenExchange");
      expect(request?.path).toBe("/metadata/identity/oauth2/token/");
      expect(request?.headers["metadata"]).toBe("true");
      expectOboForm(0, inbound, EMULATOR_TENANT_A, {
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: mi.at(-1)?.token ?? "",
      });
      expectDownstreamSawObo(inbound);
    } finally {
      await host.stop();
    }
  });
});

describe("Key Vault certificate", () => {
  it("loads the PEM certificate from Key Vault with a managed identity token and signs the assertion with it", async () => {
    vault.setSecret("obo-cert", `${clientCert.key}\n${clientCert.cert}`, "application/x-pem-file");
    const host = await startHost([
      {
        sourceType: "KeyVault",
        keyVaultUrl: vault.url,
        keyVaultCertificateName: "obo-cert",
        managedIdentityClientId: MI_CLIENT_ID,
      },
    ]);
    try {
      emu.reset();
      const inbound = await emu.userToken();
      expect(await call(host, inbound, "call_api", { path: "/me" })).toMatchObject({ isError: false });
      for (const item of imds.issued) secrets.add(item.token);
      const read = vault.requests.filter((item) => item.path === "/secrets/obo-cert");
      expect(read).toHaveLength(1);
      expect(read[0]?.query).toStrictEqual({ "api-version": "7.4" });
      const assertion = emu.tokenRequests[0]?.form["client_assertion"] ?? "";
      secrets.add(assertion);
      expectOboForm(0, inbound, EMULATOR_TENANT_A, {
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
      });
      const header = JSON.parse(Buffer.from(assertion.split(".")[0] ?? "", "base64url").toString()) as Record<
        string,
        unknown
      >;
      expect(header["x5t#S256"]).toBeTypeOf("string");
      expectDownstreamSawObo(inbound);
    } finally {
      await host.stop();
    }
  });
});

describe("first usable credential", () => {
  it("skips a PKCS#12 Key Vault certificate (logged with the reason) and uses the next source", async () => {
    vault.setSecret("pfx-cert", Buffer.from("not really pkcs12").toString("base64"), "application/x-pkcs12");
    const host = await startHost([
      {
        sourceType: "KeyVault",
        keyVaultUrl: vault.url,
        keyVaultCertificateName: "pfx-cert",
        managedIdentityClientId: MI_CLIENT_ID,
      },
      { sourceType: "ClientSecret", clientSecret: SECRET },
    ]);
    let log = "";
    host.process.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
    try {
      emu.reset();
      const inbound = await emu.userToken();
      expect(await call(host, inbound, "call_api", { path: "/me" })).toMatchObject({ isError: false });
      expectOboForm(0, inbound, EMULATOR_TENANT_A, { client_secret: SECRET });
      const lines = log
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.find((line) => line["msg"] === "client credential source skipped")?.["reason"]).toBe(
        "azureAd.clientCredentials[0] (KeyVault): certificate pfx-cert is stored as PKCS#12; Paved reads PEM only: create it with the content type application/x-pem-file",
      );
      expect(lines.find((line) => line["msg"] === "downstream client credential ready")?.["source"]).toBe(
        "azureAd.clientCredentials[1] (ClientSecret)",
      );
      expect(
        lines.some(
          (line) => line["msg"] === "a client secret is in use for downstream calls: development only",
        ),
      ).toBe(true);
    } finally {
      await host.stop();
    }
  });
});

describe("examples/downstream", () => {
  it("calls its profile service on behalf of the user", async () => {
    const host = await startHost([{ sourceType: "ClientSecret", clientSecret: SECRET }], {
      entry: EXAMPLE,
      env: { PROFILE_API_PORT: "0", PROFILE_API_SCOPE: "api://profile-api/Profile.Read" },
    });
    try {
      emu.reset();
      const inbound = await emu.userToken();
      const result = await call(host, inbound, "get_profile", {});
      expect(result).toStrictEqual({
        isError: false,
        text: JSON.stringify({
          name: null,
          objectId: "dddddddd-4444-4444-8444-dddddddddddd",
          tokenAudience: "api://profile-api",
          tokenScopes: "Profile.Read",
        }),
      });
      expect(emu.tokenRequests[0]?.form["scope"]).toBe(
        "api://profile-api/Profile.Read openid profile offline_access",
      );
      const app = await call(host, await emu.appToken(), "get_profile", {});
      expect(app.isError).toBe(true);
    } finally {
      await host.stop();
    }
  });
});

describe("logs", () => {
  it("never carry a token, an assertion or a secret", () => {
    for (const token of emu.issued) secrets.add(token);
    for (const request of emu.tokenRequests)
      if (request.form["client_assertion"]) secrets.add(request.form["client_assertion"]);
    const all = output.join("\n");
    expect(all.length).toBeGreaterThan(0);
    const leaked = [...secrets].filter((secret) => secret.length >= 16 && all.includes(secret));
    expect(leaked).toStrictEqual([]);
  });
});
