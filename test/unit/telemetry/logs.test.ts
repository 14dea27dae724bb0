import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  IdentityUnavailableError,
  InvalidTokenError,
  defineTool,
  type McpHost,
  type TokenValidator,
} from "../../../src/index.js";
import { createAuditLogger, createLogger, REDACTED_PATHS } from "../../../src/telemetry/logger.js";
import { captureLogs, echo, MCP_HEADERS, modernRpc, rpc, testHost } from "../../fixtures/hosts.js";
import { installTelemetry, type InMemoryTelemetry } from "./support.js";

/** Every secret a request in this file carries; none may appear in any output. */
const SECRETS = {
  token: "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWJlYXJlci10b2tlbg.c2lnbmF0dXJlLWFhYQ",
  queryToken: "query-token-9d2c41",
  cookie: "session-cookie-51be0c",
  assertion: "eyJhbGciOiJSUzI1NiJ9.Y2xpZW50LWFzc2VydGlvbg.YXNzZXJ0aW9uLXNpZw",
  clientSecret: "client-secret-4f0a77",
  argument: "tool-argument-secret-e81b",
  password: "p4ssw0rd-3c9e",
  buggyToken: "user.buggy.e2a1b9",
} as const;

/**
 * `user.<name>[.<Scope>]` tokens are valid; the others name their failure. `user.buggy.*` makes the
 * validator fail with a message that quotes the token (a validator bug Paved must not leak).
 */
const validator: TokenValidator = {
  validate(token) {
    if (token.startsWith("user.buggy")) return Promise.reject(new Error(`cannot parse ${token}`));
    if (token === "down") return Promise.reject(new IdentityUnavailableError());
    if (token === "client")
      return Promise.reject(new InvalidTokenError("client", "The client application is not allowed"));
    if (!token.startsWith("user."))
      return Promise.reject(new InvalidTokenError("signature", "The access token signature is invalid"));
    const [, name, ...scopes] = token.split(".");
    return Promise.resolve({
      principal: {
        id: `t1:${name ?? ""}`,
        scopes: scopes.map((scope) => scope.replaceAll("-", ".")),
        roles: [],
        isAppOnly: false,
        claims: {},
      },
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
  },
};

const guarded = defineTool({
  name: "guarded",
  description: "Needs Admin",
  scopes: ["Admin"],
  handler: () => "ok",
});

let otel: InMemoryTelemetry;
let stateless: { host: McpHost; logs: { lines: string[] } };
let stateful: { host: McpHost; logs: { lines: string[] } };
const responses: string[] = [];

function request(
  host: McpHost,
  init: { path?: string; method?: string; headers?: Record<string, string | null>; body?: string },
): Promise<Response> {
  const method = init.method ?? "POST";
  const headers: Record<string, string | null> = {
    ...MCP_HEADERS,
    authorization: `Bearer ${SECRETS.token}`,
    cookie: `session=${SECRETS.cookie}`,
    ...init.headers,
  };
  return host.fetch(
    new Request(`http://localhost${init.path ?? "/mcp"}`, {
      method,
      // `null`: the header is not sent at all.
      headers: Object.fromEntries(
        Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null),
      ),
      ...(method !== "GET" && method !== "HEAD" && { body: init.body ?? rpc("tools/list") }),
    }),
    { remoteAddress: "203.0.113.7" },
  );
}

const asUser = (name = "user.alice") => ({ authorization: `Bearer ${name}` });

/** Every rejection path of the pipeline, each with secrets in headers, query or body. */
const REJECTIONS: readonly [string, number, (host: McpHost) => Promise<Response>][] = [
  ["Host not allowed", 403, (host) => request(host, { headers: { host: "evil.example" } })],
  ["Origin not allowed", 403, (host) => request(host, { headers: { origin: "https://evil.example" } })],
  ["method not allowed", 405, (host) => request(host, { method: "PUT" })],
  [
    "form body with a client assertion",
    415,
    (host) =>
      request(host, {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `client_assertion=${SECRETS.assertion}&client_secret=${SECRETS.clientSecret}`,
      }),
  ],
  ["Accept without event-stream", 406, (host) => request(host, { headers: { accept: "application/json" } })],
  [
    "declared body too large",
    413,
    (host) => request(host, { headers: { "content-length": String(64 * 1024 * 1024) }, body: "{}" }),
  ],
  ["no credentials", 401, (host) => request(host, { headers: { authorization: "" } })],
  [
    "Basic credentials",
    401,
    (host) => request(host, { headers: { authorization: `Basic ${SECRETS.password}` } }),
  ],
  [
    "token in the query",
    401,
    (host) =>
      request(host, { path: `/mcp?access_token=${SECRETS.queryToken}`, headers: { authorization: null } }),
  ],
  ["empty Bearer credentials", 400, (host) => request(host, { headers: { authorization: "Bearer " } })],
  [
    "malformed token",
    401,
    (host) => request(host, { headers: { authorization: `Bearer ${SECRETS.token}!!` } }),
  ],
  ["rejected token", 401, (host) => request(host, {})],
  [
    "validator fault quoting the token",
    401,
    (host) => request(host, { headers: asUser(SECRETS.buggyToken) }),
  ],
  ["client application refused", 403, (host) => request(host, { headers: asUser("client") })],
  ["identity provider down", 503, (host) => request(host, { headers: asUser("down") })],
  ["onAuthenticated refuses", 403, (host) => request(host, { headers: asUser("user.mallory") })],
  [
    "body is not JSON",
    400,
    (host) => request(host, { headers: asUser(), body: `{"password": "${SECRETS.password}"` }),
  ],
  [
    "batch",
    400,
    (host) => request(host, { headers: asUser(), body: `[${rpc("tools/list")}, ${rpc("tools/list")}]` }),
  ],
  [
    "2026 headers disagree",
    400,
    (host) =>
      request(host, {
        headers: { ...asUser(), "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" },
        body: modernRpc("tools/call", { name: "echo", arguments: { text: SECRETS.argument } }),
      }),
  ],
  [
    "unsupported protocol version",
    400,
    (host) => request(host, { headers: { ...asUser(), "mcp-protocol-version": "1999-01-01" } }),
  ],
  [
    "insufficient scope",
    403,
    (host) =>
      request(host, {
        headers: asUser(),
        body: rpc("tools/call", { name: "guarded", arguments: { password: SECRETS.password } }),
      }),
  ],
  [
    "not found, secret in the query",
    404,
    (host) => request(host, { path: `/admin?token=${SECRETS.queryToken}`, method: "GET" }),
  ],
  ["health check, wrong method", 405, (host) => request(host, { path: "/healthz" })],
];

beforeAll(() => {
  otel = installTelemetry();
  const extra = {
    tokenValidator: validator,
    insecureNoAuth: undefined as never,
    tools: [echo, guarded],
    onAuthenticated: (principal: { id: string }) => principal.id !== "t1:mallory",
  };
  stateless = testHost({ server: { maxRequestsPerMinutePerUser: 100 } }, extra);
  stateful = testHost({ server: { stateless: false } }, extra);
});
afterAll(async () => {
  await stateless.host.close();
  await stateful.host.close();
  await otel.uninstall();
});

describe("every rejection path", () => {
  it.each(REJECTIONS)("%s → %i", async (_, status, send) => {
    const response = await send(stateless.host);
    expect(response.status).toBe(status);
    responses.push(JSON.stringify([...response.headers]), await response.text());
  });

  it("unknown session → 404", async () => {
    const response = await request(stateful.host, {
      headers: { ...asUser(), "mcp-session-id": "not-a-session", "mcp-protocol-version": "2025-11-25" },
    });
    expect(response.status).toBe(404);
    responses.push(await response.text());
  });

  it("a tool call's arguments and result (captureContent off), and a tool that fails", async () => {
    const call = await request(stateless.host, {
      headers: asUser(),
      body: rpc("tools/call", { name: "echo", arguments: { text: SECRETS.argument } }),
    });
    expect(call.status).toBe(200);
  });

  it("rate limited → 429", async () => {
    const limited = testHost(
      { server: { maxRequestsPerMinutePerUser: 1 } },
      { tokenValidator: validator, insecureNoAuth: undefined as never },
    );
    try {
      await request(limited.host, { headers: asUser() });
      const response = await request(limited.host, { headers: asUser() });
      expect(response.status).toBe(429);
      responses.push(await response.text());
      stateless.logs.lines.push(...limited.logs.lines);
    } finally {
      await limited.host.close();
    }
  });

  it("leave no token, assertion, cookie, secret or argument in logs, audit events, spans, metrics or answers", async () => {
    const metrics = await otel.collect();
    const outputs = {
      logs: [...stateless.logs.lines, ...stateful.logs.lines].join("\n"),
      spans: JSON.stringify(
        otel.finished().map((span) => ({
          name: span.name,
          attributes: span.attributes,
          events: span.events,
          status: span.status,
          links: span.links.map((link) => link.attributes),
        })),
      ),
      metrics: JSON.stringify(
        [...metrics.values()].map((metric) => metric.dataPoints.map((p) => p.attributes)),
      ),
      responses: responses.join("\n"),
    };
    for (const [where, text] of Object.entries(outputs)) {
      expect(text.length, where).toBeGreaterThan(0);
      for (const [what, secret] of Object.entries(SECRETS))
        expect(text, `${what} in ${where}`).not.toContain(secret);
    }
    // The buggy validator's fault is still logged, with the token cut out.
    expect(outputs.logs).toContain("cannot parse [redacted]");
  });

  it("every line about a request carries its request id, and its trace id (the request was traced)", () => {
    const lines = stateless.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const audit = lines.filter((line) => line["stream"] === "audit");
    expect(new Set(audit.map((line) => line["event"]))).toEqual(
      new Set(["auth.failed", "access.denied", "rate_limited", "tool.invoked"]),
    );
    const perRequest = lines.filter(
      (line) => line["stream"] === "audit" || line["msg"] === "request refused",
    );
    expect(perRequest.length).toBeGreaterThan(REJECTIONS.length);
    for (const line of perRequest) {
      expect(line["requestId"], JSON.stringify(line)).toEqual(expect.any(String));
      expect(line["trace_id"], JSON.stringify(line)).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(
      audit.find((line) => line["event"] === "auth.failed" && line["reason"] === "missing_token"),
    ).toMatchObject({
      level: "info",
      status: 401,
      remoteAddress: "203.0.113.7",
    });
    expect(
      audit
        .filter((line) => line["event"] === "access.denied")
        .map((line) => line["rule"])
        .sort(),
    ).toEqual(["hook", "tool"]);
  });
});

describe("the logger", () => {
  it("redacts every configured path: authorization, cookies, tokens, client assertions and secrets", () => {
    const capture = captureLogs();
    const logger = createLogger({ level: "info", serviceName: "t", destination: capture.stream });
    const value = "must-not-appear-0b1e";
    const names = [...new Set(REDACTED_PATHS.map((path) => path.split(".").at(-1) ?? path))];
    expect(names).toEqual(
      expect.arrayContaining([
        "authorization",
        "cookie",
        "set-cookie",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_assertion",
        "clientAssertion",
        "assertion",
        "client_secret",
        "clientSecret",
        "secret",
        "password",
      ]),
    );
    const headers = ["authorization", "proxy-authorization", "cookie", "set-cookie"];
    for (const name of names) {
      logger.info({ [name]: value }, "top level");
      logger.info({ nested: { [name]: value } }, "one level down");
    }
    for (const name of headers) {
      logger.info({ req: { headers: { [name]: value } } }, "request headers");
      logger.info({ headers: { [name]: value } }, "headers");
    }
    const text = capture.lines.join("");
    expect(capture.lines).toHaveLength(names.length * 2 + headers.length * 2);
    expect(text).not.toContain(value);
    expect(text).toContain("[redacted]");
  });

  it("the audit stream is its own logger: stream audit, always at info, to the log, a file, or nowhere", async () => {
    const capture = captureLogs();
    const app = createLogger({ level: "error", serviceName: "t", destination: capture.stream });
    const audit = createAuditLogger("log", { log: app, serviceName: "t" });
    audit?.info({ event: "auth.failed", authorization: "Bearer x" }, "authentication failed");
    app.info("not at error level: dropped");
    expect(capture.lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        level: "info",
        stream: "audit",
        event: "auth.failed",
        authorization: "[redacted]",
      }),
    ]);
    expect(createAuditLogger("off", { log: app, serviceName: "t" })).toBeUndefined();
    expect(() => createAuditLogger("audit.log", { log: app, serviceName: "t" })).toThrow(TypeError);

    const dir = await mkdtemp(join(tmpdir(), "paved-audit-"));
    try {
      const file = join(dir, "nested", "audit.jsonl");
      const toFile = createAuditLogger(file, { log: app, serviceName: "svc" });
      toFile?.info({ event: "tool.invoked" }, "tool invoked");
      // The destination opens and writes asynchronously (audit lines never block a request).
      let text = "";
      for (let attempt = 0; attempt < 100 && !text.endsWith("\n"); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        text = await readFile(file, "utf8").catch(() => "");
      }
      const line = JSON.parse(text.trim()) as Record<string, unknown>;
      expect(line).toMatchObject({ service: "svc", stream: "audit", event: "tool.invoked", level: "info" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
