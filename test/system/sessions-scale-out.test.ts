import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Client, SdkHttpError, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerKey } from "../../src/sessions/session-registry.js";
import { runCli, urlOf, type Spawned } from "../fixtures/cli.js";
import { nginxAvailability, startNginx, type Nginx } from "../fixtures/nginx.js";
import { freePort, redisAvailability, startRedis, type RedisServer } from "../fixtures/redis.js";

/**
 * Stateful 2025-era sessions on two Paved replicas (`paved start`, child processes) sharing a real
 * redis-server, behind a real nginx: once with the session affinity of deploy/nginx/paved.conf,
 * once round-robin without it, so every other request lands on the replica that does not hold the
 * session and is forwarded. Loopback only; bounded.
 */

const ENTRY = "test/fixtures/entries/stateful.mjs";
const PAVED_CONF = fileURLToPath(new URL("../../deploy/nginx/paved.conf", import.meta.url));
const IDLE_TIMEOUT_MS = 2_000;
const MAX_PER_USER = 3;

const redisCheck = redisAvailability();
const nginxCheck = nginxAvailability();
const runnable = redisCheck.run && nginxCheck.run;
if (!runnable)
  console.warn(`sessions-scale-out: ${[redisCheck.reason, nginxCheck.reason].filter(Boolean).join("; ")}`);

/**
 * deploy/nginx/paved.conf as it is, with the test's replicas in its upstreams and a loopback port
 * to listen on; without the session hash when `affinity` is off (plain round-robin).
 */
async function renderSite(
  replicas: readonly number[],
  affinity: boolean,
): Promise<(listen: number) => string> {
  const lines = (await readFile(PAVED_CONF, "utf8")).split("\n");
  const out: string[] = [];
  let inUpstream = false;
  let emitted = false;
  let upstreams = 0;
  let listens = 0;
  let hashes = 0;
  for (const line of lines) {
    if (/^\s*upstream\s+\S+\s*\{/.test(line)) {
      inUpstream = true;
      emitted = false;
      upstreams++;
      out.push(line);
      continue;
    }
    if (inUpstream && /^\s*}/.test(line)) inUpstream = false;
    const server = /^(\s*)server\s+\S+:\d+(.*);\s*$/.exec(line);
    if (inUpstream && server !== null) {
      const [, indent = "", parameters = ""] = server;
      if (!emitted) for (const port of replicas) out.push(`${indent}server 127.0.0.1:${port}${parameters};`);
      emitted = true;
      continue;
    }
    if (/^\s*listen\s+80;/.test(line)) {
      listens++;
      out.push(line.replace(/listen\s+80;/, "listen 127.0.0.1:@PORT@;"));
      continue;
    }
    if (/^\s*hash \$http_mcp_session_id consistent;/.test(line)) {
      hashes++;
      if (affinity) out.push(line);
      continue;
    }
    out.push(line);
  }
  // deploy/nginx/paved.conf changed shape: this test must follow it.
  expect({ upstreams, listens, hashes }).toEqual({ upstreams: 2, listens: 1, hashes: 1 });
  const text = out.join("\n");
  return (listen) => text.replace("@PORT@", String(listen));
}

interface Replica {
  readonly name: string;
  readonly port: number;
  readonly spawned: Spawned;
}

async function startReplica(name: string, port: number, env: Record<string, string>): Promise<Replica> {
  const spawned = runCli(["start", ENTRY], {
    ...env,
    PORT: String(port),
    HOST: "127.0.0.1",
    REPLICA_NAME: name,
  });
  await urlOf(spawned, 15_000);
  // As a load balancer would: no traffic before /readyz says so (Redis connected).
  const deadline = Date.now() + 10_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline) throw new Error(`${name} never became ready:\n${spawned.stdout()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { name, port, spawned };
}

async function stopReplica(replica: Replica, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  if (replica.spawned.child.exitCode !== null || replica.spawned.child.signalCode !== null) return;
  replica.spawned.child.kill(signal);
  await Promise.race([replica.spawned.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

describe.runIf(runnable).each([
  { mode: "affinity", stop: "SIGTERM" as const },
  { mode: "round-robin", stop: "SIGKILL" as const },
])("stateful sessions on two replicas behind nginx ($mode)", ({ mode, stop }) => {
  let redis: RedisServer;
  let nginx: Nginx;
  let replicas: Replica[] = [];
  let endpoint: URL;

  beforeAll(async () => {
    redis = await startRedis();
    const ports = [await freePort(), await freePort()];
    const env = {
      PAVED_SERVER__STATELESS: "false",
      PAVED_STORE__REDIS: redis.url,
      PAVED_SERVER__STATEKEYS: randomBytes(32).toString("base64"),
      PAVED_SERVER__SESSIONS__IDLETIMEOUTMS: String(IDLE_TIMEOUT_MS),
      PAVED_SERVER__SESSIONS__MAXPERUSER: String(MAX_PER_USER),
      PAVED_SERVER__MAXREQUESTSPERMINUTEPERUSER: "0",
      PAVED_SERVER__SHUTDOWNGRACEMS: "500",
      PAVED_TELEMETRY__LOGLEVEL: "warn",
    };
    replicas = await Promise.all(ports.map((port, index) => startReplica(`r${index + 1}`, port, env)));
    nginx = await startNginx(await renderSite(ports, mode === "affinity"));
    endpoint = new URL(`http://127.0.0.1:${nginx.port}/mcp`);
  }, 40_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(replicas.map((replica) => stopReplica(replica, "SIGKILL")));
    await redis?.stop();
  });

  async function connect(
    token: string,
  ): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const client = new Client({ name: `scale-out-${mode}`, version: "1" });
    const transport = new StreamableHTTPClientTransport(endpoint, {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return { client, transport };
  }

  async function whoami(client: Client): Promise<{ replica: string; session: string }> {
    const result = await client.callTool({ name: "whoami", arguments: {} });
    const [replica = "", session = ""] = ((result.content as { text: string }[])[0]?.text ?? "").split(" ");
    return { replica, session };
  }

  function post(token: string, body: string, session?: string): Promise<Response> {
    return fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${token}`,
        "mcp-protocol-version": "2025-11-25",
        ...(session !== undefined && { "mcp-session-id": session }),
      },
      body,
    });
  }

  async function open(token: string): Promise<string> {
    const response = await post(token, INIT);
    expect(response.status).toBe(200);
    await response.text();
    const session = response.headers.get("mcp-session-id")!;
    const done = await post(
      token,
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      session,
    );
    expect(done.status).toBe(202);
    return session;
  }

  it("a client keeps its session across 100 requests", async () => {
    const { client, transport } = await connect("user.alice");
    const session = transport.sessionId!;
    const owners = new Set<string>();
    for (let index = 0; index < 100; index++) {
      const { replica, session: seen } = await whoami(client);
      owners.add(replica);
      expect(seen).toBe(session);
    }
    expect(owners.size).toBe(1);
    expect(transport.sessionId).toBe(session);
    // nginx sent the session's requests to one upstream with affinity, to both without it.
    const upstreams = new Set(
      (await nginx.accessLog())
        .filter((line) => line.startsWith("POST") && line.endsWith(`"${session}"`))
        .map((line) => line.split(" ")[2]),
    );
    expect(upstreams.size).toBe(mode === "affinity" ? 1 : 2);
    await client.close();
  });

  it("user B can neither use user A's session id (404) nor resume A's stream", async () => {
    const session = await open("user.alice");
    for (let attempt = 0; attempt < 2; attempt++) {
      const foreign = await post("user.bob", rpc("tools/list", {}, 2), session);
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ error: { code: -32001, message: "Session not found" } });
    }
    // An event id of A's stream: the priming event of a tool call with progress.
    const call = await post(
      "user.alice",
      rpc("tools/call", { name: "count", arguments: { n: 2, ms: 5 }, _meta: { progressToken: 1 } }, 3),
      session,
    );
    const events = await call.text();
    const eventId = /^id: (.+)$/m.exec(events)?.[1];
    expect(eventId).toBeDefined();
    expect(events).toContain("counted to 2");
    for (let attempt = 0; attempt < 2; attempt++) {
      const resume = await fetch(endpoint, {
        headers: {
          authorization: "Bearer user.bob",
          accept: "text/event-stream",
          "mcp-session-id": session,
          "mcp-protocol-version": "2025-11-25",
          "last-event-id": eventId!,
        },
      });
      expect(resume.status).toBe(404);
      expect(await resume.text()).not.toContain("counted");
      const remove = await fetch(endpoint, {
        method: "DELETE",
        headers: { authorization: "Bearer user.bob", "mcp-session-id": session },
      });
      expect(remove.status).toBe(404);
    }
    const own = await post("user.alice", rpc("ping", {}, 4), session);
    expect(own.status).toBe(200);
    // The owner resumes from the same event id: the stream's events come back (from Redis).
    const resumed = await fetch(endpoint, {
      headers: {
        authorization: "Bearer user.alice",
        accept: "text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-11-25",
        "last-event-id": eventId!,
      },
    });
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain("counted to 2");
  });

  it("an idle session is evicted", async () => {
    const session = await open("user.erin");
    expect((await post("user.erin", rpc("ping"), session)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, IDLE_TIMEOUT_MS + 1_200));
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await post("user.erin", rpc("ping"), session)).status).toBe(404);
    }
  });

  it("the per-user cap holds across replicas", async () => {
    const sessions: string[] = [];
    for (let index = 0; index < MAX_PER_USER + 2; index++) sessions.push(await open("user.carol"));
    for (const [index, session] of sessions.entries()) {
      const expected = index < 2 ? 404 : 200;
      for (let attempt = 0; attempt < 2; attempt++) {
        expect((await post("user.carol", rpc("ping"), session)).status, `session ${index}`).toBe(expected);
      }
    }
    // One sorted set per owner in Redis, keyed by a digest of the user id: three sessions in it.
    expect(Number(redis.cli("zcard", `paved:sess:{${ownerKey("t1:carol")}}:i`))).toBe(MAX_PER_USER);
  });

  it(`a client whose replica is stopped (${stop}) gets 404, re-initializes on the other and continues`, async () => {
    const { client } = await connect("user.dave");
    const before = await whoami(client);
    const owner = replicas.find((replica) => replica.name === before.replica)!;
    const survivor = replicas.find((replica) => replica !== owner)!;
    await stopReplica(owner, stop);

    const failure = await whoami(client).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SdkHttpError);
    expect((failure as SdkHttpError).status).toBe(404);
    await client.close().catch(() => undefined);

    const again = await connect("user.dave");
    for (let index = 0; index < 5; index++) {
      const after = await whoami(again.client);
      expect(after.replica).toBe(survivor.name);
      expect(after.session).not.toBe(before.session);
    }
    await again.client.close();
  });
});
