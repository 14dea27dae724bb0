import { randomBytes } from "node:crypto";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createMcpHost,
  createMemorySessionRegistry,
  type McpHost,
  type SessionRegistry,
} from "../../src/index.js";
import { serve, type RunningServer } from "../../src/node/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs, echo, MCP_HEADERS, rpc, slowCount } from "../fixtures/hosts.js";
import { namedTokens } from "../fixtures/principals.js";
import { freePort } from "../fixtures/redis.js";

/**
 * Stateful sessions across replicas, in one process: two hosts share a session registry and the
 * key ring and serve on loopback, as two replicas behind a load balancer without affinity would.
 */

const STATE_KEYS = [randomBytes(32).toString("base64")];
const ALICE = "user.alice";
const BOB = "user.bob";

interface Replica {
  readonly host: McpHost;
  readonly running: RunningServer;
  readonly logs: string[];
}

async function replica(registry: SessionRegistry, sessions: Record<string, number> = {}): Promise<Replica> {
  const logs = captureLogs();
  const host = createMcpHost({
    config: { server: { stateless: false, stateKeys: STATE_KEYS, sessions } },
    server: { name: "replica", version: "1.0.0" },
    tools: [echo, slowCount],
    tokenValidator: namedTokens(),
    sessionRegistry: registry,
    logger: createLogger({ level: "debug", serviceName: "replica", destination: logs.stream }),
  });
  const running = await serve(host, { port: 0, handleSignals: false });
  return { host, running, logs: logs.lines };
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

function post(
  at: Replica,
  token: string,
  body: string,
  session?: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(at.running.url, {
    method: "POST",
    headers: {
      ...MCP_HEADERS,
      authorization: `Bearer ${token}`,
      "mcp-protocol-version": "2025-11-25",
      ...(session !== undefined && { "mcp-session-id": session }),
      ...headers,
    },
    body,
    ...(signal !== undefined && { signal }),
  });
}

async function open(at: Replica, token = ALICE): Promise<string> {
  const response = await post(at, token, INIT);
  expect(response.status).toBe(200);
  await response.text();
  const session = response.headers.get("mcp-session-id")!;
  const initialized = await post(
    at,
    token,
    JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    session,
  );
  expect(initialized.status).toBe(202);
  return session;
}

/** A round-robin "load balancer" for the official client: each request goes to the next replica. */
function roundRobin(replicas: readonly Replica[]): typeof fetch {
  let next = 0;
  return (input, init) => {
    const target = replicas[next++ % replicas.length]!.running.url;
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    return fetch(new URL(url.pathname + url.search, target), init);
  };
}

describe("stateful sessions across replicas (shared registry, forwarding)", () => {
  let registry: SessionRegistry;
  let a: Replica;
  let b: Replica;
  const extra: Replica[] = [];

  beforeAll(async () => {
    registry = createMemorySessionRegistry();
    a = await replica(registry);
    b = await replica(registry);
  });
  afterAll(async () => {
    await Promise.all([a.running.close(), b.running.close()]);
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((item) => item.running.close()));
  });

  it("the official client keeps its session when every request lands on another replica", async () => {
    const client = new Client({ name: "rr", version: "1" });
    const transport = new StreamableHTTPClientTransport(a.running.url, {
      fetch: roundRobin([a, b]),
      requestInit: { headers: { authorization: `Bearer ${ALICE}` } },
    });
    await client.connect(transport);
    const session = transport.sessionId;
    expect(session).toMatch(/^[A-Za-z0-9_-]{32}$/);
    for (let index = 0; index < 20; index++) {
      const result = await client.callTool({ name: "echo", arguments: { text: `n${index}` } });
      expect(result.content).toEqual([{ type: "text", text: `n${index}` }]);
    }
    // Progress streams through the forwarding replica as server-sent events.
    const seen: number[] = [];
    const counted = await client.callTool(
      { name: "slow_count", arguments: { n: 3, ms: 5 } },
      { onprogress: (progress) => seen.push(progress.progress) },
    );
    expect(seen).toEqual([1, 2, 3]);
    expect(counted.content).toEqual([{ type: "text", text: "counted to 3" }]);
    expect(transport.sessionId).toBe(session);
    await client.close();
  });

  it("SESS-05: another user gets 404 for the session on every replica; the owner still gets through", async () => {
    const session = await open(a);
    for (const at of [a, b]) {
      const foreign = await post(at, BOB, rpc("tools/list", {}, 2), session);
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ error: { code: -32001, message: "Session not found" } });
    }
    const own = await post(b, ALICE, rpc("ping", {}, 3), session);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('"result":{}');
  });

  it("refuses a forwarding mark it cannot verify (403), and forwards at most once", async () => {
    const session = await open(a);
    const forged = await post(b, ALICE, rpc("ping"), session, {
      "x-paved-forwarded": `v1.${Math.floor(Date.now() / 1000)}.${"A".repeat(43)}`,
    });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ error: { data: { reason: "forwarding_not_trusted" } } });

    // A valid mark from a replica with other keys is no better.
    const other = createMemorySessionRegistry();
    const stranger = await replica(other);
    extra.push(stranger);
    const { signForwarded } = await import("../../src/sessions/forwarded-header.js");
    const { createKeyRing } = await import("../../src/state/key-ring.js");
    const mark = (keys: readonly string[]) =>
      signForwarded(createKeyRing(keys).keys("forwarding"), {
        method: "POST",
        path: "/mcp",
        sessionId: session,
      });
    const wrongKey = await post(b, ALICE, rpc("ping"), session, {
      "x-paved-forwarded": mark([randomBytes(32).toString("base64")]),
    });
    expect(wrongKey.status).toBe(403);

    // A request already forwarded once is answered where it lands: B does not hold it → 404, no loop.
    const once = await post(b, ALICE, rpc("ping"), session, { "x-paved-forwarded": mark(STATE_KEYS) });
    expect(once.status).toBe(404);
    const owner = await post(a, ALICE, rpc("ping"), session, { "x-paved-forwarded": mark(STATE_KEYS) });
    expect(owner.status).toBe(200);
  });

  it("SSE-03/05 across replicas: a dropped stream resumes through another replica, never for another user", async () => {
    const session = await open(a);
    const aborter = new AbortController();
    const call = await post(
      b,
      ALICE,
      rpc("tools/call", { name: "slow_count", arguments: { n: 4, ms: 150 }, _meta: { progressToken: 7 } }, 9),
      session,
      {},
      aborter.signal,
    );
    expect(call.headers.get("content-type")).toContain("text/event-stream");
    const reader = call.body!.getReader();
    let seen = "";
    let lastId: string | undefined;
    while (lastId === undefined || !seen.includes("notifications/progress")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
      const ids = [...seen.matchAll(/^id: (.+)$/gm)].map((match) => match[1]);
      lastId = ids.at(-1);
    }
    expect(lastId).toBeDefined();
    aborter.abort();

    const resume = (token: string) =>
      fetch(b.running.url, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: "text/event-stream",
          "mcp-session-id": session,
          "mcp-protocol-version": "2025-11-25",
          "last-event-id": lastId!,
        },
      });
    const stolen = await resume(BOB);
    expect(stolen.status).toBe(404);
    expect(await stolen.text()).not.toContain("counted");

    const resumed = await resume(ALICE);
    expect(resumed.status).toBe(200);
    const rest = await resumed.text();
    expect(rest).toContain('"text":"counted to 4"');
    expect(rest).toContain('"id":9');
  });

  it("per-user cap across replicas: the least recently used session goes, wherever it lives", async () => {
    const capped = createMemorySessionRegistry();
    const one = await replica(capped, { maxPerUser: 2 });
    const two = await replica(capped, { maxPerUser: 2 });
    extra.push(one, two);
    const first = await open(one);
    const second = await open(two);
    const bobs = await open(two, BOB);
    expect(await capped.count("t1:alice")).toBe(2);
    // Opened on `two`, it evicts `first`, which `one` holds: `one` learns it on the next request.
    const third = await open(two);
    expect(await capped.count("t1:alice")).toBe(2);
    expect((await post(one, ALICE, rpc("ping"), first)).status).toBe(404);
    expect((await post(two, ALICE, rpc("ping"), first)).status).toBe(404);
    expect((await post(one, ALICE, rpc("ping"), second)).status).toBe(200);
    expect((await post(one, ALICE, rpc("ping"), third)).status).toBe(200);
    expect((await post(one, BOB, rpc("ping"), bobs)).status).toBe(200);
    // A fourth, opened on `one`, evicts `second` (least recently used) from `two`.
    await open(one);
    expect((await post(two, ALICE, rpc("ping"), second)).status).toBe(404);
  });

  it("when the owner stops, the client gets 404 from the other replica, re-initializes there and continues", async () => {
    const shared = createMemorySessionRegistry();
    const doomed = await replica(shared);
    const survivor = await replica(shared);
    extra.push(survivor);
    const session = await open(doomed);
    expect((await post(survivor, ALICE, rpc("ping"), session)).status).toBe(200);
    await doomed.running.close();
    const gone = await post(survivor, ALICE, rpc("ping"), session);
    expect(gone.status).toBe(404);
    const fresh = await open(survivor);
    expect((await post(survivor, ALICE, rpc("ping"), fresh)).status).toBe(200);
  });

  it("a crashed owner (nothing listens at its address) reads as gone: 404 and the record is dropped", async () => {
    const shared = createMemorySessionRegistry();
    const survivor = await replica(shared);
    extra.push(survivor);
    const dead = `http://127.0.0.1:${await freePort()}`;
    await shared.register(
      { id: "c".repeat(32), owner: "t1:alice", replica: dead },
      { ttlMs: 60_000, maxPerUser: 10 },
    );
    const response = await post(survivor, ALICE, rpc("ping"), "c".repeat(32));
    expect(response.status).toBe(404);
    expect(await shared.lookup("t1:alice", "c".repeat(32))).toBeUndefined();
    expect(survivor.logs.join("")).toContain("the replica holding a session is gone");
  });
});
