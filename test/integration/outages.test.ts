import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createMcpHost, defineTool, type McpHost, type PavedConfigInput } from "paved-mcp";
import { serve, type RunningServer } from "paved-mcp/node";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs, rpc, testHost } from "../fixtures/hosts.js";
import { redisAvailability, startRedis, type RedisServer } from "../fixtures/redis.js";
import {
  CLIENT_APP,
  CLIENT_ID,
  TENANT_A,
  startTokenIssuer,
  type TokenIssuer,
} from "../fixtures/token-issuer.js";

/*
 * Outages (issue #8, part 3), each against a real Paved server over real HTTP on loopback: the
 * identity provider's key set down at start and after start, its keys rotated under load, Redis
 * down and back for sessions and rate limits, a tool that hangs past the deadline and a tool that
 * throws. Where an existing suite already proves a case exactly it is named in the comment, not
 * repeated.
 */

const KEYS_UNAVAILABLE = {
  error: "temporarily_unavailable",
  error_description: "The identity provider's signing keys are not available yet",
};

let calls = 0;
const counted = defineTool({
  name: "counted",
  description: "Counts its calls",
  handler: () => {
    calls++;
    return "ok";
  },
});

const servers: RunningServer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(host: McpHost): Promise<RunningServer> {
  const running = await serve(host, { port: 0, handleSignals: false });
  servers.push(running);
  return running;
}

function entraHost(issuer: TokenIssuer, config: PavedConfigInput = {}, logs = captureLogs()): McpHost {
  return createMcpHost({
    config: {
      ...config,
      azureAd: {
        instance: issuer.instance,
        tenantId: TENANT_A,
        clientId: CLIENT_ID,
        allowedClientApps: [CLIENT_APP],
      },
      server: { maxRequestsPerMinutePerUser: 0, ...config.server },
    },
    logger: createLogger({ level: "debug", serviceName: "outages", destination: logs.stream }),
    server: { name: "outages", version: "1.0.0" },
    tools: [counted],
  });
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

async function call(
  running: RunningServer,
  token: string | undefined,
  body = rpc("tools/call", { name: "counted", arguments: {} }),
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(running.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body,
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function get(running: RunningServer, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(path, running.url));
  return { status: response.status, body: await response.json() };
}

/** Polls `check` every 25 ms, at most `attempts` times. */
async function until(check: () => Promise<boolean>, what: string, attempts = 400): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what}: not reached`);
}

/** The JSON-RPC result of a tool call answered as JSON or as one SSE message. */
function resultOf(body: string): unknown {
  const data = /^data: (.+)$/m.exec(body)?.[1] ?? body;
  return JSON.parse(data);
}

describe("the identity provider's key set", () => {
  let issuer: TokenIssuer;
  beforeAll(async () => {
    issuer = await startTokenIssuer();
  });
  afterAll(async () => {
    await issuer.close();
  });

  it("down at start: /readyz 503 not_ready, requests 503 temporarily_unavailable with Retry-After; once it is back, ready and served", async () => {
    issuer.down();
    const running = await start(entraHost(issuer));
    const token = issuer.mint(issuer.entraV2());
    try {
      // The start-up fetch failed (the provider answered 503).
      await until(() => Promise.resolve(issuer.count() > 0), "first key fetch");
      expect(await get(running, "/readyz")).toEqual({
        status: 503,
        body: { status: "not_ready", checks: { identity: false } },
      });
      expect(await get(running, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
      const before = calls;
      const refused = await call(running, token);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("content-type")).toBe("application/json");
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(refused.headers.get("www-authenticate")).toBeNull();
      expect(JSON.parse(refused.body)).toEqual(KEYS_UNAVAILABLE);
      expect(calls).toBe(before);
    } finally {
      issuer.up();
    }
    // Retries are spaced by the key set's 30 s cooldown: move the clock past it rather than wait.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    const served = await call(running, issuer.mint(issuer.entraV2()));
    expect(served.status).toBe(200);
    expect(resultOf(served.body)).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: { content: [{ type: "text", text: "ok" }] },
    });
    expect(await get(running, "/readyz")).toEqual({
      status: 200,
      body: { status: "ready", checks: { identity: true } },
    });
  });

  // A failed refresh with an unknown kid (ENTRA-07c) lives in adversarial-tokens.test.ts; this is the
  // whole provider going away.
  it("down after start: every endpoint 503, yet 50 new tokens signed with the cached key are served and /readyz stays 200", async () => {
    const running = await start(entraHost(issuer));
    await until(async () => (await get(running, "/readyz")).status === 200, "ready");
    issuer.down();
    try {
      const fetches = issuer.count();
      const before = calls;
      const statuses = [];
      // Unique tokens: each is verified (no token-cache hit) with the cached key.
      for (let index = 0; index < 50; index++)
        statuses.push((await call(running, issuer.mint(issuer.entraV2({ uti: `down-${index}` })))).status);
      expect(statuses).toEqual(Array<number>(50).fill(200));
      expect(calls).toBe(before + 50);
      expect(issuer.count()).toBe(fetches);
      expect(await get(running, "/readyz")).toEqual({
        status: 200,
        body: { status: "ready", checks: { identity: true } },
      });
    } finally {
      issuer.up();
    }
  });

  it("a key rotation mid-traffic: 500 requests, 25 in flight, the issuer publishes and switches to a new key after 100 — zero failures, one key-set fetch", async () => {
    const running = await start(entraHost(issuer));
    await until(async () => (await get(running, "/readyz")).status === 200, "ready");
    const keysPath = issuer.paths.v2Keys(TENANT_A);
    // Production keys were fetched long ago: past the 30 s cooldown an unknown kid may refetch.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    const oldKid = issuer.activeKid;
    const oldToken = issuer.mint(issuer.entraV2({ uti: "minted-before-rotation" }));
    const fetchesBefore = issuer.count(keysPath);
    const before = calls;
    const statuses = new Map<number, number>();
    const kids = new Map<string, number>();
    let sent = 0;
    let done = 0;
    let rotation: Promise<unknown> | undefined;
    const worker = async (): Promise<void> => {
      while (sent < 500) {
        const index = sent++;
        // Every fifth request keeps presenting a token minted before the rotation (still valid).
        const token = index % 5 === 0 ? oldToken : issuer.mint(issuer.entraV2({ uti: `rotation-${index}` }));
        const kid = index % 5 === 0 ? oldKid : issuer.activeKid;
        kids.set(kid, (kids.get(kid) ?? 0) + 1);
        const { status } = await call(running, token);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (++done === 100) rotation = issuer.addKey({ activate: true });
      }
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    await rotation;
    expect(Object.fromEntries(statuses)).toEqual({ 200: 500 });
    expect(calls).toBe(before + 500);
    expect(issuer.activeKid).not.toBe(oldKid);
    // Requests were signed with the new key (the count depends on when the key was ready).
    expect(kids.get(issuer.activeKid)).toBeGreaterThan(0);
    expect((kids.get(oldKid) ?? 0) + (kids.get(issuer.activeKid) ?? 0)).toBe(500);
    // The first unknown kid refetched the key set once; concurrent callers shared that fetch.
    expect(issuer.count(keysPath)).toBe(fetchesBefore + 1);
  });
});

const redisState = redisAvailability();
if (!redisState.run) console.warn(redisState.reason);

describe.runIf(redisState.run)("Redis down and back (store.redis, stateful sessions)", () => {
  let issuer: TokenIssuer;
  let redis: RedisServer;
  beforeAll(async () => {
    issuer = await startTokenIssuer();
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
    await issuer.close();
  });

  const logs = captureLogs();
  function redisHost(failurePolicy: "fail-open" | "fail-closed"): McpHost {
    return entraHost(
      issuer,
      {
        server: { stateless: false, stateKeys: [randomBytes(32).toString("base64")] },
        store: { redis: redis.url, failurePolicy },
      },
      logs,
    );
  }

  const initialize = rpc("initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "outage", version: "1" },
  });

  async function openSession(running: RunningServer, token: string): Promise<string> {
    const opened = await call(running, token, initialize);
    expect(opened.status).toBe(200);
    const id = opened.headers.get("mcp-session-id");
    if (id === null) throw new Error("no session id");
    const session = { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
    const initialized = await call(
      running,
      token,
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      session,
    );
    expect(initialized.status).toBe(202);
    return id;
  }

  function inSession(running: RunningServer, token: string, id: string): Promise<Answer> {
    return call(running, token, rpc("tools/call", { name: "counted", arguments: {} }, 5), {
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-11-25",
    });
  }

  it("sessions held here keep working, new sessions get 503 session_store_unavailable, rate limits follow the failure policy; Redis back: everything recovers without restarting Paved", async () => {
    const open = await start(redisHost("fail-open"));
    const closed = await start(redisHost("fail-closed"));
    const token = issuer.mint(issuer.entraV2());
    const ready = {
      status: 200,
      body: { status: "ready", checks: { identity: true, "rate-limit-store": true, sessions: true } },
    };
    for (const running of [open, closed])
      await until(async () => (await get(running, "/readyz")).status === 200, "ready");
    expect(await get(open, "/readyz")).toEqual(ready);
    const held = await openSession(open, token);
    expect((await inSession(open, token, held)).status).toBe(200);

    await redis.stop(true);
    try {
      for (const running of [open, closed])
        await until(async () => (await get(running, "/readyz")).status === 503, "unready");
      const unready = {
        status: 503,
        body: { status: "not_ready", checks: { identity: true, "rate-limit-store": false, sessions: false } },
      };
      expect(await get(open, "/readyz")).toEqual(unready);
      expect(await get(closed, "/readyz")).toEqual(unready);

      // fail-open: the session held by this replica keeps working, without RateLimit fields.
      const before = calls;
      const kept = await inSession(open, token, held);
      expect(kept.status).toBe(200);
      expect(resultOf(kept.body)).toEqual({
        jsonrpc: "2.0",
        id: 5,
        result: { content: [{ type: "text", text: "ok" }] },
      });
      expect(kept.headers.get("ratelimit")).toBeNull();
      expect(calls).toBe(before + 1);
      // Its progress could not be stored for resumption: said once for the session, not per event.
      const unstored = logs.lines.filter((line) => line.includes("session events not stored"));
      expect(unstored).toHaveLength(1);
      expect(unstored[0]).not.toContain(redis.url);
      // A new session cannot be registered: 503 with Retry-After and a reason.
      const refused = await call(open, token, initialize);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("2");
      expect(JSON.parse(refused.body)).toEqual({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: -32000,
          message: "Service Unavailable: the session registry is unreachable",
          data: { reason: "session_store_unavailable" },
        },
      });
      // fail-closed: nothing is served while limits cannot be checked (rate-limit-accuracy.test.ts
      // proves this across replicas behind nginx; here the exact answer).
      const limited = await call(closed, token);
      expect(limited.status).toBe(503);
      expect(limited.headers.get("content-type")).toBe("application/problem+json");
      expect(limited.headers.get("retry-after")).toBe("1");
      expect(JSON.parse(limited.body)).toEqual({
        type: "about:blank",
        title: "Service Unavailable",
        status: 503,
        detail: "Rate limits cannot be checked right now; retry shortly",
      });
      expect(calls).toBe(before + 1);
    } finally {
      await redis.start();
    }

    for (const running of [open, closed])
      await until(async () => (await get(running, "/readyz")).status === 200, "ready again");
    expect(await get(open, "/readyz")).toEqual(ready);
    // This Redis keeps nothing across a restart: the registry lost the held session's record, so its
    // next use closes it (404, as for any unknown session) and the client initializes again.
    expect((await inSession(open, token, held)).status).toBe(404);
    const reopened = await openSession(open, token);
    expect((await inSession(open, token, reopened)).status).toBe(200);
    const served = await call(closed, token);
    expect(served.status).toBe(200);
    expect(served.headers.get("ratelimit")).toMatch(/^"address";r=\d+;t=\d+;pk=:/);
  }, 30_000);
});

describe("tools that hang or throw (real HTTP)", () => {
  // The unit suite (test/unit/mcp/deadline-and-cancel.test.ts) proves the same through host.fetch.
  it("a tool that hangs: the deadline aborts its signal and the client gets JSON-RPC -32001", async () => {
    let aborted = 0;
    const stuck = defineTool({
      name: "stuck",
      description: "Hangs until its signal aborts",
      handler: (_args, ctx) =>
        new Promise<string>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted++;
            resolve("late");
          });
        }),
    });
    const { host } = testHost({ server: { requestDeadlineMs: 1_000 } }, { tools: [stuck, counted] });
    const running = await start(host);
    const answer = await call(running, undefined, rpc("tools/call", { name: "stuck", arguments: {} }, 9));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      jsonrpc: "2.0",
      id: 9,
      error: { code: -32001, message: "Request timed out after 1000 ms" },
    });
    expect(aborted).toBe(1);
    // The server is fine afterwards.
    const next = await call(running, undefined);
    expect(resultOf(next.body)).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: { content: [{ type: "text", text: "ok" }] },
    });
  });

  it("a tool that throws: a generic message with the request's reference, no message, path or stack; logged once with it", async () => {
    const { host, logs } = testHost();
    const running = await start(host);
    const answer = await call(running, undefined, rpc("tools/call", { name: "fails", arguments: {} }, 4), {
      "x-request-id": "ref-outage-42",
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-request-id")).toBe("ref-outage-42");
    expect(resultOf(answer.body)).toEqual({
      jsonrpc: "2.0",
      id: 4,
      result: {
        isError: true,
        content: [{ type: "text", text: 'Tool "fails" failed unexpectedly. Reference: ref-outage-42' }],
      },
    });
    for (const secret of ["hunter2", "db.ts", "/srv/app", "Error:", "    at "])
      expect(answer.body).not.toContain(secret);
    const records = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const errors = records.filter((record) => record["level"] === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'Tool "fails" failed', requestId: "ref-outage-42" });
    expect(JSON.stringify(errors[0])).toContain("hunter2");
  });
});
