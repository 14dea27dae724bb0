import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createMcpHost,
  defineTool,
  PavedError,
  type McpHost,
  type McpHostOptions,
  type PavedConfigInput,
  type RejectionEvent,
} from "../../../src/index.js";
import type { RateLimitStore } from "../../../src/rate-limit/store.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import { captureLogs, MCP_HEADERS, rpc, slowCount } from "../../fixtures/hosts.js";
import { namedTokens } from "../../fixtures/principals.js";

const echo = defineTool({
  name: "echo",
  description: "Echo",
  input: { text: z.string() },
  handler: ({ text }) => text,
});
const report = defineTool({
  name: "report",
  description: "An expensive report: 3 units",
  cost: 3,
  handler: () => "report",
});
const export_ = defineTool({
  name: "export",
  description: "At most 2 calls per user per window",
  rateLimit: { perUser: 2 },
  handler: () => "exported",
});

let host: McpHost;
let validator: ReturnType<typeof namedTokens>;
let logs: ReturnType<typeof captureLogs>;
afterEach(async () => {
  await host.close();
});

function make(
  server: NonNullable<PavedConfigInput["server"]> = {},
  { config, ...extra }: Partial<McpHostOptions> = {},
) {
  validator = namedTokens();
  logs = captureLogs();
  host = createMcpHost({
    config: {
      ...(config as PavedConfigInput | undefined),
      server: { resourceHost: "https://mcp.contoso.com", ...server },
    },
    server: { name: "limits", version: "1" },
    tools: [echo, report, export_, slowCount],
    tokenValidator: validator,
    authorizationServers: ["https://login.example/tenant/v2.0"],
    logger: createLogger({ level: "debug", serviceName: "test", destination: logs.stream }),
    ...extra,
  });
  return host;
}

function post(
  token: string | undefined,
  body: string,
  options: { address?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return host.fetch(
    new Request("https://mcp.contoso.com/mcp", {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
        ...options.headers,
      },
      body,
    }),
    { remoteAddress: options.address ?? "192.0.2.10" },
  );
}

const call = (
  token: string,
  tool = "echo",
  args: Record<string, unknown> = { text: "hi" },
  address?: string,
) =>
  post(token, rpc("tools/call", { name: tool, arguments: args }), address === undefined ? {} : { address });

/** RFC 9651 List of Items with parameters, just enough for RateLimit fields: name → params. */
function parseList(value: string | null): Map<string, Record<string, number | string>> {
  expect(value).not.toBeNull();
  const items = new Map<string, Record<string, number | string>>();
  for (const member of (value ?? "").split(/,\s*/)) {
    const match = /^"([^"\\]+)"((?:;[a-z]+=(?:\d+|:[A-Za-z0-9+/=]+:|"[^"]*"))*)$/.exec(member);
    expect(match, `an sf-item with a quoted name: ${member}`).not.toBeNull();
    const params: Record<string, number | string> = {};
    for (const param of (match?.[2] ?? "").split(";").slice(1)) {
      const key = param.slice(0, param.indexOf("="));
      const raw = param.slice(param.indexOf("=") + 1);
      params[key] = /^\d+$/.test(raw) ? Number(raw) : raw;
    }
    items.set(match?.[1] ?? "", params);
  }
  return items;
}

describe("rate limits in the pipeline (stages 4 and 7)", () => {
  it("RL-02/03: every answer carries RateLimit-Policy and RateLimit with quoted names, q/w/r/t and pk", async () => {
    make({ maxRequestsPerMinutePerUser: 5, maxRequestsPerMinutePerTenant: 50 });
    const response = await call("user.alice");
    expect(response.status).toBe(200);
    const policy = parseList(response.headers.get("ratelimit-policy"));
    expect([...policy.keys()]).toStrictEqual(["address", "user", "tenant"]);
    expect(policy.get("address")).toMatchObject({ q: 3000, w: 60 });
    expect(policy.get("user")).toMatchObject({ q: 5, w: 60 });
    expect(policy.get("tenant")).toMatchObject({ q: 50, w: 60 });
    const limit = parseList(response.headers.get("ratelimit"));
    expect(limit.get("user")).toMatchObject({ r: 4, t: 60 });
    expect(limit.get("tenant")).toMatchObject({ r: 49, t: 60 });
    expect(limit.get("address")).toMatchObject({ r: 2999, t: 60 });
    for (const [name, params] of policy) {
      expect(params.pk).toMatch(/^:[A-Za-z0-9+/]{22}==:$/);
      expect(limit.get(name)?.pk).toBe(params.pk);
    }
    const second = parseList((await call("user.alice")).headers.get("ratelimit"));
    expect(second.get("user")).toMatchObject({ r: 3 });
  });

  it("RL-01/04: over the user quota → 429 problem+json, Retry-After ≥ t, violated-policies [user]", async () => {
    const rejected: RejectionEvent[] = [];
    make({ maxRequestsPerMinutePerUser: 3 }, { onRejected: (event) => rejected.push(event) });
    for (let index = 0; index < 3; index++) expect((await call("user.alice")).status).toBe(200);
    const response = await call("user.alice");
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const user = parseList(response.headers.get("ratelimit")).get("user");
    expect(user).toMatchObject({ r: 0 });
    expect(retryAfter).toBeGreaterThanOrEqual(Number(user?.t));
    expect(await response.json()).toStrictEqual({
      type: "https://iana.org/assignments/http-problem-types#quota-exceeded",
      title: "Request cannot be satisfied as assigned quota has been exceeded",
      status: 429,
      detail: `Too many requests: retry in ${retryAfter} s`,
      "violated-policies": ["user"],
    });
    expect(response.headers.get("x-request-id")).not.toBeNull();
    expect(rejected.at(-1)).toMatchObject({ status: 429, reason: "rate_limited", principalId: "t1:alice" });
    // another user is unaffected
    expect((await call("user.bob")).status).toBe(200);
  });

  it("RL-05: pk is an HMAC — not the id, the same for the same user, shared by a tenant's users", async () => {
    make({ maxRequestsPerMinutePerUser: 100, maxRequestsPerMinutePerTenant: 1000 });
    const pk = async (token: string) => {
      const items = parseList((await call(token)).headers.get("ratelimit"));
      return { user: String(items.get("user")?.pk), tenant: String(items.get("tenant")?.pk) };
    };
    const alice1 = await pk("user.alice");
    const alice2 = await pk("user.alice");
    const bob = await pk("user.bob");
    const carol = await pk("user.carol~t2");
    expect(alice1).toStrictEqual(alice2);
    expect(bob.user).not.toBe(alice1.user);
    expect(bob.tenant).toBe(alice1.tenant);
    expect(carol.tenant).not.toBe(alice1.tenant);
    for (const secret of ["alice", "t1", "t1:alice", "user:t1:alice", "tenant:t1"]) {
      const encoded = `:${Buffer.from(secret).toString("base64")}:`;
      expect(alice1.user).not.toBe(encoded);
      expect(alice1.tenant).not.toBe(encoded);
    }
  });

  it("RL-06: users of one tenant share the tenant bucket; the tenant 429 names the tenant policy", async () => {
    make({ maxRequestsPerMinutePerUser: 10, maxRequestsPerMinutePerTenant: 3 });
    expect((await call("user.alice")).status).toBe(200);
    expect((await call("user.bob")).status).toBe(200);
    expect((await call("user.carol")).status).toBe(200);
    const refused = await call("user.dave");
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ "violated-policies": ["tenant"] });
    // another tenant has its own bucket
    expect((await call("user.erin~t2")).status).toBe(200);
    // the refused request took nothing from dave's own quota
    const dave = parseList((await call("user.dave~t3")).headers.get("ratelimit")).get("user");
    expect(dave).toMatchObject({ r: 9 });
  });

  it("RL-06: a flood of junk tokens from one address gets 429 before the validator runs", async () => {
    make({ maxRequestsPerMinutePerClientAddress: 10 });
    const statuses: number[] = [];
    for (let index = 0; index < 200; index++) statuses.push((await call(`junk-${index}`)).status);
    expect(statuses.slice(0, 10)).toStrictEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toStrictEqual(Array(190).fill(429));
    expect(validator.seen).toHaveLength(10);
    const refused = await call("user.alice");
    expect(await refused.json()).toMatchObject({ "violated-policies": ["address"] });
    // another address is not affected
    expect((await call("user.alice", "echo", { text: "x" }, "192.0.2.99")).status).toBe(200);
  });

  it("X-Forwarded-For is ignored unless server.trustProxy; then its last entry is the client", async () => {
    make({ maxRequestsPerMinutePerClientAddress: 2 });
    const spoof = (ip: string) =>
      post("user.alice", rpc("tools/list"), { headers: { "x-forwarded-for": ip } }).then((r) => r.status);
    expect([
      await spoof("203.0.113.1"),
      await spoof("203.0.113.2"),
      await spoof("203.0.113.3"),
    ]).toStrictEqual([200, 200, 429]);
    await host.close();

    make({ maxRequestsPerMinutePerClientAddress: 2, trustProxy: true });
    const viaProxy = (chain: string) =>
      post("user.alice", rpc("tools/list"), { headers: { "x-forwarded-for": chain } }).then((r) => r.status);
    expect(await viaProxy("203.0.113.1")).toBe(200);
    expect(await viaProxy("203.0.113.1")).toBe(200);
    expect(await viaProxy("203.0.113.1")).toBe(429);
    // the client cannot escape by prepending addresses: only the proxy's entry counts
    expect(await viaProxy("198.51.100.7, 203.0.113.1")).toBe(429);
    expect(await viaProxy("203.0.113.2")).toBe(200);
  });

  it("RL-06: changing X-Forwarded-For does not reset the user's bucket", async () => {
    make({ maxRequestsPerMinutePerUser: 3, trustProxy: true });
    const from = (ip: string) =>
      post("user.alice", rpc("tools/list"), { headers: { "x-forwarded-for": ip } }).then((r) => r.status);
    const statuses = [];
    for (let index = 1; index <= 4; index++) statuses.push(await from(`203.0.113.${index}`));
    expect(statuses).toStrictEqual([200, 200, 200, 429]);
  });

  it("per-tool cost draws several units; a tool's own limit is a policy of its own", async () => {
    make({ maxRequestsPerMinutePerUser: 10 });
    const afterReport = parseList((await call("user.alice", "report", {})).headers.get("ratelimit"));
    expect(afterReport.get("user")).toMatchObject({ r: 7 });
    const first = await call("user.alice", "export", {});
    expect(first.status).toBe(200);
    expect(parseList(first.headers.get("ratelimit-policy")).get("tool:export")).toMatchObject({
      q: 2,
      w: 60,
    });
    expect(parseList(first.headers.get("ratelimit")).get("tool:export")).toMatchObject({ r: 1 });
    expect((await call("user.alice", "export", {})).status).toBe(200);
    const third = await call("user.alice", "export", {});
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ "violated-policies": ["tool:export"] });
    // other tools go on; the refused export took nothing from the user's quota (10 - 3 - 1 - 1 = 5)
    const echoed = await call("user.alice");
    expect(echoed.status).toBe(200);
    expect(parseList(echoed.headers.get("ratelimit")).get("user")).toMatchObject({ r: 4 });
    // other users have their own tool quota
    expect((await call("user.bob", "export", {})).status).toBe(200);
  });

  it("a tool whose cost exceeds the quota is refused at construction", () => {
    const huge = defineTool({ name: "huge", description: "x", cost: 11, handler: () => "" });
    expect(() =>
      createMcpHost({
        config: { server: { maxRequestsPerMinutePerUser: 10 } },
        server: { name: "x", version: "1" },
        tools: [huge],
        tokenValidator: namedTokens(),
      }),
    ).toThrow(PavedError);
    expect(() => defineTool({ name: "bad", description: "x", cost: 0, handler: () => "" })).toThrow(
      /cost must be an integer/,
    );
    expect(() =>
      defineTool({ name: "bad", description: "x", rateLimit: { perUser: 0.5 }, handler: () => "" }),
    ).toThrow(/rateLimit.perUser/);
    host = createMcpHost({ server: { name: "x", version: "1" }, insecureNoAuth: true });
  });

  it("RL-07: an SSE answer carries the RateLimit fields in its header section", async () => {
    make({ maxRequestsPerMinutePerUser: 5 });
    const response = await post(
      "user.alice",
      rpc("tools/call", { name: "slow_count", arguments: { n: 2, ms: 1 }, _meta: { progressToken: 1 } }),
    );
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(parseList(response.headers.get("ratelimit")).get("user")).toMatchObject({ r: 4 });
    await response.text();
  });

  it("failures and rejections before stage 7 carry the address policy; 0 turns limits off", async () => {
    make({ maxRequestsPerMinutePerUser: 0, maxRequestsPerMinutePerClientAddress: 0 });
    const response = await call("user.alice");
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit")).toBeNull();
    expect(response.headers.get("ratelimit-policy")).toBeNull();
    await host.close();
    make();
    const unauthenticated = await post(undefined, rpc("tools/list"));
    expect(unauthenticated.status).toBe(401);
    expect([...parseList(unauthenticated.headers.get("ratelimit")).keys()]).toStrictEqual(["address"]);
  });

  it("with authentication off only the per-address limit applies", async () => {
    logs = captureLogs();
    host = createMcpHost({
      config: { server: { maxRequestsPerMinutePerUser: 1 } },
      server: { name: "open", version: "1" },
      tools: [echo],
      insecureNoAuth: true,
      logger: createLogger({ level: "silent", serviceName: "test", destination: logs.stream }),
    });
    const statuses = [];
    for (let index = 0; index < 3; index++) {
      const response = await host.fetch(
        new Request("http://localhost/mcp", {
          method: "POST",
          headers: MCP_HEADERS,
          body: rpc("tools/call", { name: "echo", arguments: { text: "x" } }),
        }),
      );
      statuses.push(response.status);
      expect([...parseList(response.headers.get("ratelimit")).keys()]).toStrictEqual(["address"]);
    }
    expect(statuses).toStrictEqual([200, 200, 200]);
  });
});

describe("when the store cannot decide", () => {
  const broken = (ready = false): RateLimitStore => ({
    name: "broken",
    consume: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
    ready: () => ready,
    close: () => Promise.resolve(),
  });

  it("fail-open (default) serves without RateLimit fields, logs the failure once, and /readyz is not ready", async () => {
    make({ maxRequestsPerMinutePerUser: 3 }, { rateLimitStore: broken() });
    for (let index = 0; index < 5; index++) {
      const response = await call("user.alice");
      expect(response.status).toBe(200);
      expect(response.headers.get("ratelimit")).toBeNull();
    }
    const failures = logs.lines.filter((line) => line.includes("rate-limit store unavailable"));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain("fail-open");
    const ready = await host.fetch(new Request("http://localhost/readyz"));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { "rate-limit-store": false } });
  });

  it("fail-closed answers 503 problem+json", async () => {
    make(
      { maxRequestsPerMinutePerUser: 3 },
      { rateLimitStore: broken(), config: { store: { failurePolicy: "fail-closed" } } },
    );
    const response = await call("user.alice");
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toStrictEqual({
      type: "about:blank",
      title: "Service Unavailable",
      status: 503,
      detail: "Rate limits cannot be checked right now; retry shortly",
    });
    expect(validator.seen).toHaveLength(0);
  });
});
