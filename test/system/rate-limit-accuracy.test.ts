import { request as httpRequest, Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, urlOf, type Spawned } from "../fixtures/cli.js";
import { nginxAvailability, startNginx, type Nginx } from "../fixtures/nginx.js";
import { freePort, redisAvailability, startRedis, type RedisServer } from "../fixtures/redis.js";

/**
 * Issue 4, "what it must show": two Paved replicas (`paved start`, separate processes) behind a real
 * nginx (round-robin) with a real redis-server. 1,000 users send twice their limit for two windows;
 * each gets exactly its limit per window. Then Redis goes away mid-run and comes back.
 */

const ENTRY = "test/fixtures/entries/rate-limited.mjs";
const USERS = 1_000;
const LIMIT = 4;
const WINDOW_MS = 20_000;
/** Twice the limit per window: one request per user every W / 2L. */
const PER_WINDOW = 2 * LIMIT;
const WINDOWS = 2;
const IN_FLIGHT = 64;
const REDIS_PASSWORD = "s3cret-redis-pa55word";

const redis = redisAvailability();
const nginxInstalled = nginxAvailability();
const run = redis.run && nginxInstalled.run;
if (!run) console.warn(`rate-limit system tests skipped: ${redis.reason || nginxInstalled.reason}`);

/** Round-robin over the replicas; POSTs are never retried on another replica; `X-Upstream` names the one that answered. */
const site = (upstreams: readonly number[]) => (port: number) => `
upstream paved {
${upstreams.map((upstream) => `  server 127.0.0.1:${upstream} max_fails=0;`).join("\n")}
  keepalive 128;
  # Close idle connections before Node does (keepAliveTimeoutMs, 5 s): a POST on a connection the
  # replica is closing would be a 502, never retried.
  keepalive_timeout 2s;
}
server {
  listen 127.0.0.1:${port};
  location / {
    proxy_pass http://paved;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_buffering off;
    proxy_next_upstream off;
    add_header X-Upstream $upstream_addr always;
  }
}
`;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

function post(base: string, token: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL("/mcp", base);
    const req = httpRequest(
      url,
      {
        method: "POST",
        agent,
        headers: {
          host: "mcp.contoso.com",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${token}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function get(base: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(new URL(path, base), { agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    })
      .on("error", reject)
      .end();
  });
}

const call = (id: number) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: {} } });

/** Checks a 429 the way a client would: problem+json, Retry-After, both RateLimit fields. */
function validRejection(answer: Answer): string | undefined {
  const retryAfter = Number(answer.headers["retry-after"]);
  if (!Number.isInteger(retryAfter) || retryAfter < 1)
    return `Retry-After ${String(answer.headers["retry-after"])}`;
  if (answer.headers["content-type"] !== "application/problem+json") return "content-type";
  const policy = String(answer.headers["ratelimit-policy"]);
  if (!new RegExp(`^"user";q=${LIMIT};w=${WINDOW_MS / 1000};pk=:[A-Za-z0-9+/]{22}==:$`).test(policy))
    return `RateLimit-Policy ${policy}`;
  const limit = /^"user";r=0;t=(\d+);pk=:[A-Za-z0-9+/]{22}==:$/.exec(String(answer.headers.ratelimit));
  if (limit === null) return `RateLimit ${String(answer.headers.ratelimit)}`;
  if (retryAfter < Number(limit[1])) return "Retry-After earlier than t";
  const problem = JSON.parse(answer.body) as Record<string, unknown>;
  if (problem.type !== "https://iana.org/assignments/http-problem-types#quota-exceeded")
    return "problem type";
  if (JSON.stringify(problem["violated-policies"]) !== '["user"]') return "violated-policies";
  return undefined;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(run)("rate limits across two replicas behind nginx, on Redis", () => {
  let server: RedisServer;
  let nginx: Nginx;
  let front: string;
  const replicas: Spawned[] = [];
  const bases: string[] = [];

  beforeAll(async () => {
    server = await startRedis({ password: REDIS_PASSWORD });
    // Replica 0 fails open, replica 1 fails closed: the fault test shows both policies.
    const policies = ["fail-open", "fail-closed"] as const;
    const ports = await Promise.all(policies.map(() => freePort()));
    policies.forEach((policy, index) => {
      replicas.push(
        runCli(["start", ENTRY], {
          PORT: String(ports[index]),
          HOST: "127.0.0.1",
          PAVED_STORE__REDIS: server.url,
          PAVED_STORE__KEYPREFIX: "accuracy:",
          PAVED_STORE__FAILUREPOLICY: policy,
          PAVED_SERVER__MAXREQUESTSPERMINUTEPERUSER: String(LIMIT),
          PAVED_SERVER__MAXREQUESTSPERMINUTEPERCLIENTADDRESS: "0",
          PAVED_SERVER__RATELIMITWINDOWMS: String(WINDOW_MS),
          PAVED_SERVER__TRUSTPROXY: "true",
          PAVED_TELEMETRY__LOGLEVEL: "info",
        }),
      );
    });
    for (const replica of replicas) bases.push((await urlOf(replica, 30_000)).origin);
    for (const base of bases)
      await until(async () => (await get(base, "/readyz")).status === 200, 10_000, "replicas ready");
    nginx = await startNginx(site(bases.map((base) => Number(new URL(base).port))));
    front = `http://127.0.0.1:${nginx.port}`;
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await nginx?.stop();
    for (const replica of replicas) {
      replica.child.kill("SIGTERM");
      await replica.exited;
    }
    await server?.stop();
  });

  it(`1,000 users at twice their limit for two windows: each gets exactly ${LIMIT} per window; every 429 is valid; nothing lost or doubled`, async () => {
    const spacing = WINDOW_MS / PER_WINDOW;
    const events: { at: number; user: number; window: number; id: number }[] = [];
    let id = 0;
    for (let user = 0; user < USERS; user++) {
      const offset = (user / USERS) * spacing;
      for (let k = 0; k < PER_WINDOW * WINDOWS; k++)
        events.push({ at: offset + k * spacing, user, window: Math.floor(k / PER_WINDOW), id: ++id });
    }
    events.sort((a, b) => a.at - b.at);

    const admitted = new Array<number>(USERS).fill(0);
    /** Admitted per user and window of its schedule: [first window, second window]. */
    const perWindow = Array.from({ length: USERS }, () => new Array<number>(WINDOWS).fill(0));
    const answered = new Map<number, number>();
    const invalid: string[] = [];
    const upstreams = new Map<string, number>();
    const statuses = new Map<number, number>();
    let lateMs = 0;
    const started = performance.now();
    let inFlight = 0;
    let next = 0;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        while (next < events.length && inFlight < IN_FLIGHT) {
          const event = events[next] as (typeof events)[number];
          const wait = event.at - (performance.now() - started);
          if (wait > 0) {
            setTimeout(pump, Math.min(wait, 20));
            return;
          }
          lateMs = Math.max(lateMs, -wait);
          next++;
          inFlight++;
          post(front, `user.u${event.user}`, call(event.id)).then((answer) => {
            inFlight--;
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            const upstream = String(answer.headers["x-upstream"]);
            upstreams.set(upstream, (upstreams.get(upstream) ?? 0) + 1);
            if (answer.status === 200) {
              admitted[event.user] = (admitted[event.user] ?? 0) + 1;
              const windows = perWindow[event.user] as number[];
              windows[event.window] = (windows[event.window] ?? 0) + 1;
              const body = JSON.parse(answer.body) as { id?: number };
              answered.set(body.id ?? -1, (answered.get(body.id ?? -1) ?? 0) + 1);
              if (body.id !== event.id) invalid.push(`answer ${String(body.id)} for request ${event.id}`);
            } else if (answer.status === 429) {
              answered.set(event.id, (answered.get(event.id) ?? 0) + 1);
              const problem = validRejection(answer);
              if (problem !== undefined) invalid.push(problem);
            } else invalid.push(`status ${answer.status}: ${answer.body.slice(0, 200)}`);
            if (next >= events.length && inFlight === 0) resolve();
            else pump();
          }, reject);
        }
      };
      pump();
    });
    const seconds = (performance.now() - started) / 1000;

    const expected = LIMIT * WINDOWS;
    const total = admitted.reduce((sum, count) => sum + count, 0);
    const exact = admitted.filter((count) => count === expected).length;
    const exactPerWindow = perWindow.filter((windows) => windows.every((count) => count === LIMIT)).length;
    const histogram: Record<number, number> = {};
    for (const count of admitted) histogram[count] = (histogram[count] ?? 0) + 1;
    console.log(
      `rate-limit accuracy: ${events.length} requests in ${seconds.toFixed(1)} s (${Math.round(events.length / seconds)}/s, ${IN_FLIGHT} in flight, worst start delay ${lateMs.toFixed(0)} ms); ` +
        `admitted ${total} of ${USERS * expected} expected (${((total / (USERS * expected) - 1) * 100).toFixed(2)}%); ` +
        `users with exactly ${expected}: ${exact}/${USERS}, with exactly ${LIMIT} in each window: ${exactPerWindow}/${USERS}; per-user histogram ${JSON.stringify(histogram)}; ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}; replicas ${JSON.stringify(Object.fromEntries(upstreams))}`,
    );

    expect(invalid.slice(0, 5)).toStrictEqual([]);
    // nothing lost, nothing answered twice
    expect(answered.size).toBe(events.length);
    expect([...answered.values()].every((count) => count === 1)).toBe(true);
    // both replicas served (round-robin)
    expect(upstreams.size).toBe(2);
    // exactly the limit per window: in aggregate within 1 %, and every user within one request
    expect(Math.abs(total - USERS * expected)).toBeLessThanOrEqual(USERS * expected * 0.01);
    expect(Math.min(...admitted)).toBeGreaterThanOrEqual(expected - 1);
    expect(Math.max(...admitted)).toBeLessThanOrEqual(expected + 1);
    expect(exact).toBeGreaterThanOrEqual(USERS * 0.99);
    expect(exactPerWindow).toBeGreaterThanOrEqual(USERS * 0.99);
    expect(perWindow.flat().every((count) => Math.abs(count - LIMIT) <= 1)).toBe(true);
  }, 90_000);

  it("Redis stopped mid-run: fail-open serves, fail-closed answers 503, /readyz unready, logs keep the secret; restarted: limits work again", async () => {
    const [open, closed] = bases as [string, string];
    // limits work before the fault
    const before = [];
    for (let index = 0; index < LIMIT + 1; index++)
      before.push((await post(open, "user.fault1", call(index))).status);
    expect(before).toStrictEqual([...Array<number>(LIMIT).fill(200), 429]);

    await server.stop(true);
    await until(async () => (await get(open, "/readyz")).status === 503, 10_000, "fail-open replica unready");
    await until(
      async () => (await get(closed, "/readyz")).status === 503,
      10_000,
      "fail-closed replica unready",
    );
    expect(JSON.parse((await get(open, "/readyz")).body)).toMatchObject({
      status: "not_ready",
      checks: { "rate-limit-store": false },
    });
    // fail-open: served, without limits (more than the limit for a fresh user)
    const during = [];
    for (let index = 0; index < LIMIT + 2; index++)
      during.push((await post(open, "user.fault2", call(index))).status);
    expect(during).toStrictEqual(Array<number>(LIMIT + 2).fill(200));
    // fail-closed: 503 problem+json
    const refused = await post(closed, "user.fault2", call(99));
    expect(refused.status).toBe(503);
    expect(refused.headers["content-type"]).toBe("application/problem+json");
    expect(refused.headers["retry-after"]).toBe("1");

    await server.start();
    for (const base of bases)
      await until(async () => (await get(base, "/readyz")).status === 200, 15_000, "replicas ready again");
    // limits hold again, across both replicas, without restarting Paved
    const after = [];
    for (let index = 0; index < LIMIT + 2; index++)
      after.push((await post(index % 2 === 0 ? open : closed, "user.fault3", call(index))).status);
    expect(after).toStrictEqual([...Array<number>(LIMIT).fill(200), 429, 429]);

    const logs = replicas.map((replica) => replica.stdout() + replica.stderr()).join("\n");
    expect(logs).toContain("Redis unreachable");
    expect(logs).toContain("Redis reachable again");
    expect(logs).toContain("fail-open");
    expect(logs).toContain("fail-closed");
    expect(logs).not.toContain(REDIS_PASSWORD);
    expect(logs).not.toContain("user.fault");
    expect(replicas.every((replica) => replica.child.exitCode === null)).toBe(true);
  }, 60_000);
});
