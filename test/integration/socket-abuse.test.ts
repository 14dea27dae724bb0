import { fork, type ChildProcess } from "node:child_process";
import { Agent, request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUOTA_EXCEEDED } from "../../src/rate-limit/headers.js";
import { modernRpc, rpc } from "../fixtures/hosts.js";
import {
  CLIENT_APP,
  CLIENT_ID,
  TENANT_A,
  startTokenIssuer,
  type IssuerKey,
  type TokenIssuer,
} from "../fixtures/token-issuer.js";

/*
 * Abuse at the socket (issue #8, part 2) against a Paved server in a child process (`node
 * --expose-gc`, test/fixtures/entries/abuse-server.mjs) that validates real RS256 tokens from the
 * loopback issuer. Every case is bounded in count and time, uses raw sockets on loopback, and
 * asserts exactly what the server sends; afterwards the child's connections, active resources
 * (timers, sockets), listeners, in-flight requests and sessions are back to the warmed-up baseline,
 * and post-GC heapUsed is within 10% of it.
 *
 * Each case sends from its own loopback address (127.0.0.x): the pre-auth limiter counts per client
 * address, so the flood's budget is not spent by the other cases.
 *
 * Server limits (the fixture's configuration): headersTimeoutMs 1000, requestTimeoutMs 2000,
 * keepAliveTimeoutMs 1000, maxHeaderBytes 8192, maxRequestsPerMinutePerClientAddress PER_ADDRESS,
 * stateful mode with sessions.idleTimeoutMs 3000.
 */

const ENTRY = fileURLToPath(new URL("../fixtures/entries/abuse-server.mjs", import.meta.url));
const PER_ADDRESS = 200;
/** Upper bound on any one socket's life in these tests; the server must act well before it. */
const GUARD_MS = 15_000;

const RESPONSE_408 = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
const RESPONSE_400 = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
const RESPONSE_431 = "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";

interface Stats {
  readonly heapUsed: number;
  /** Used bytes per V8 heap space (code_space grows with JIT, old_space with retained objects). */
  readonly spaces: Record<string, number>;
  readonly rss: number;
  readonly resources: Record<string, number>;
  readonly connections: number;
  readonly listeners: { readonly server: number; readonly process: number };
  readonly inFlight: number;
  readonly sessions: number;
  readonly counters: {
    readonly verify: number;
    readonly record: number;
    readonly started: number;
    readonly aborted: number;
    readonly finished: number;
  };
}

let issuer: TokenIssuer;
let attacker: IssuerKey;
let child: ChildProcess;
let port: number;
let output = "";
let token: string;
let baseline: Stats;
let statsSerial = 0;

/** The child's numbers; `collect` first forces full garbage collections (for memory figures). */
function stats(collect = false): Promise<Stats> {
  const id = ++statsSerial;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no stats from the child\n${output.slice(-2_000)}`)),
      10_000,
    );
    const onMessage = (message: { type?: string; id?: number } & Stats): void => {
      if (message.type !== "stats" || message.id !== id) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
    child.send({ type: "stats", id, collect });
  });
}

/** Polls the child's stats until `done` holds (at most `attempts` × 100 ms), and returns the last. */
async function statsUntil(done: (current: Stats) => boolean, attempts = 100): Promise<Stats> {
  let current = await stats();
  for (let attempt = 0; attempt < attempts && !done(current); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    current = await stats();
    if (process.env["ABUSE_DEBUG"] !== undefined) console.log(JSON.stringify(current));
  }
  return current;
}

const settled = (current: Stats): boolean =>
  current.connections === 0 &&
  current.inFlight === 0 &&
  current.sessions === 0 &&
  JSON.stringify(sorted(current.resources)) === JSON.stringify(sorted(baseline.resources));

const mb = (bytes: number | undefined): string => ((bytes ?? 0) / 1e6).toFixed(1);

function sorted(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

interface RawResult {
  /** Everything the server sent. */
  readonly data: string;
  /** `server`: the server closed the connection; `guard`: the test's bound did. */
  readonly closedBy: "server" | "guard";
}

/**
 * Opens a raw socket from `localAddress`, hands it to `drive`, and resolves with what the server sent
 * once the connection closes (or `GUARD_MS` passes, which then destroys it).
 */
function rawSocket(localAddress: string, drive: (socket: Socket) => void): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    let data = "";
    let guarded = false;
    const guard = setTimeout(() => {
      guarded = true;
      socket.destroy();
    }, GUARD_MS);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(guard);
      resolve({ data, closedBy: guarded ? "guard" : "server" });
    });
    socket.on("connect", () => drive(socket));
  });
}

/** Writes `chunks` one every `gapMs` while the socket is open. */
function trickle(socket: Socket, chunks: readonly string[], gapMs: number): void {
  let index = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || index >= chunks.length) clearInterval(timer);
    else socket.write(chunks[index++] as string);
  }, gapMs);
  socket.on("close", () => clearInterval(timer));
}

function mcpHead(length: number, bearer: string, extra = ""): string {
  return (
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nAuthorization: Bearer ${bearer}\r\n` +
    `Content-Length: ${length}\r\n${extra}\r\n`
  );
}

/** A complete, valid POST of `body` as raw bytes. */
function mcpRequest(body: string, bearer = token, extra = ""): string {
  return mcpHead(Buffer.byteLength(body), bearer, extra) + body;
}

function get(path: string): Promise<number> {
  return fetch(`http://127.0.0.1:${port}${path}`).then(async (response) => {
    await response.arrayBuffer();
    return response.status;
  });
}

// --- The cases, each a function so the warm-up runs the same code paths as the measured run ------

const SLOWLORIS_HEAD = ["POST /mcp HTTP/1.1\r\n", "Host: 127.0.0.1\r\n"];

/** `count` sockets trickling header lines; `started` resolves once every one has connected and written. */
function slowloris(count: number, address: string): { started: Promise<void>; done: Promise<RawResult[]> } {
  const lines = [...SLOWLORIS_HEAD, ...Array.from({ length: 60 }, (_, i) => `X-Slow-${i}: a\r\n`)];
  let writing = 0;
  let started: () => void = () => undefined;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const done = Promise.all(
    Array.from({ length: count }, () =>
      rawSocket(address, (socket) => {
        socket.write(lines[0] as string, () => {
          if (++writing === count) started();
        });
        trickle(socket, lines.slice(1), 200);
      }),
    ),
  );
  void done.then(() => started());
  return { started: startedPromise, done };
}

async function slowBodies(count: number, address: string): Promise<RawResult[]> {
  const body = rpc("tools/call", { name: "record", arguments: {} }).padEnd(400, " ");
  return Promise.all(
    Array.from({ length: count }, () =>
      rawSocket(address, (socket) => {
        socket.write(mcpHead(body.length, token));
        trickle(
          socket,
          Array.from({ length: body.length }, (_, index) => body.slice(index, index + 1)),
          100,
        );
      }),
    ),
  );
}

async function oversized(count: number, address: string): Promise<RawResult[]> {
  const oneBig = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(10_000)}\r\n\r\n`;
  const many = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${Array.from({ length: 200 }, (_, i) => `X-Many-${i}: ${"b".repeat(40)}\r\n`).join("")}\r\n`;
  const bigToken = mcpRequest(rpc("ping"), "a".repeat(9_000));
  const shapes = [oneBig, many, bigToken];
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      rawSocket(address, (socket) => socket.write(shapes[i % shapes.length] as string)),
    ),
  );
}

/**
 * Opens `count` connections, sends one request on each and leaves it idle after its answer until
 * the server closes it; `whileOpen` runs once half of them have been answered.
 */
async function idleKeepAlive(
  count: number,
  address: string,
  whileOpen: () => Promise<void>,
): Promise<{ results: RawResult[]; answered: string[] }> {
  const answered: string[] = [];
  let during: Promise<void> | undefined;
  const results = Promise.all(
    Array.from({ length: count }, () =>
      rawSocket(address, (socket) => {
        let head = "";
        const onData = (chunk: string): void => {
          head += chunk;
          if (!head.endsWith('{"status":"ok"}')) return;
          socket.off("data", onData);
          answered.push(head);
          if (answered.length === Math.ceil(count / 2)) during = whileOpen();
        };
        socket.on("data", onData);
        socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      }),
    ),
  );
  const done = await results;
  await during;
  return { results: done, answered };
}

/** How many results had each (closedBy, data) pair: one exact, readable summary. */
function tally(results: readonly RawResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { closedBy, data } of results) {
    const key = `${closedBy}|${data}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

interface FloodResult {
  readonly statuses: Map<number, number>;
  /** Wrong-signature tokens answered other than 429 (they reached the validator). */
  readonly forgedAdmitted: number;
  readonly forgedLimited: number;
  readonly limitedBodies: unknown[];
  readonly limitedHeaders: Array<Record<string, string | string[] | undefined>>;
}

/** `count` requests, half malformed and half wrong-signature tokens, 50 in flight, from `address`. */
async function flood(count: number, address: string): Promise<FloodResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 50, localAddress: address });
  const statuses = new Map<number, number>();
  const limitedBodies: unknown[] = [];
  const limitedHeaders: Array<Record<string, string | string[] | undefined>> = [];
  let forgedAdmitted = 0;
  let forgedLimited = 0;
  const body = rpc("tools/call", { name: "record", arguments: {} });
  // Well-formed tokens naming the issuer's key, each unique, all carrying the attacker's signature.
  const [header, , signature] = issuer.mint(issuer.entraV2(), { key: attacker.privateKey }).split(".") as [
    string,
    string,
    string,
  ];
  const claims = issuer.entraV2();
  const send = (index: number): Promise<void> => {
    const forged = index % 2 === 0;
    const payload = Buffer.from(JSON.stringify({ ...claims, uti: `flood-${address}-${index}` })).toString(
      "base64url",
    );
    const bearer = forged ? `${header}.${payload}.${signature}` : `${"x".repeat(20)}.${index}.not-a-jwt`;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          agent,
          host: "127.0.0.1",
          port,
          path: "/mcp",
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            authorization: `Bearer ${bearer}`,
            "content-length": Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => {
            const status = response.statusCode ?? 0;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 429) {
              if (forged) forgedLimited++;
              limitedBodies.push(JSON.parse(text));
              limitedHeaders.push(response.headers);
            } else if (forged) forgedAdmitted++;
            resolve();
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await send(next++);
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  agent.destroy();
  return { statuses, forgedAdmitted, forgedLimited, limitedBodies, limitedHeaders };
}

const SMUGGLED = (): string => mcpRequest(rpc("tools/call", { name: "record", arguments: {} }, 2));

/** Request heads whose framing is ambiguous, each followed by a smuggled `record` call. */
function smugglingShapes(): Record<string, string> {
  const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nAuthorization: Bearer ${token}\r\n`;
  const smuggled = SMUGGLED();
  const length = Buffer.byteLength(smuggled);
  return {
    "Transfer-Encoding: chunked + Content-Length": `${head}Content-Length: ${length + 5}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    "Content-Length + Transfer-Encoding: chunked": `${head}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    "duplicate Content-Length (different values)": `${head}Content-Length: 2\r\nContent-Length: ${length + 2}\r\n\r\n{}${smuggled}`,
    "duplicate Content-Length (same value)": `${head}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}${smuggled}`,
    "Transfer-Encoding: chunked, identity": `${head}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
    "Transfer-Encoding with a space before the colon": `${head}Transfer-Encoding : chunked\r\nContent-Length: ${length + 5}\r\n\r\n0\r\n\r\n${smuggled}`,
    "obs-fold (a folded header line)": `${head}X-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}${smuggled}`,
    "obs-fold hiding Transfer-Encoding": `${head}X-Folded: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    "bare LF line endings": head.replaceAll("\r\n", "\n") + `Content-Length: 2\n\n{}${smuggled}`,
    "a bare LF inside the head": `${head}X-A: 1\nContent-Length: 2\r\n\r\n{}${smuggled}`,
  };
}

async function smuggle(address: string): Promise<Record<string, RawResult>> {
  const results: Record<string, RawResult> = {};
  for (const [name, bytes] of Object.entries(smugglingShapes()))
    results[name] = await rawSocket(address, (socket) => socket.write(bytes));
  return results;
}

/** Reads from the socket until `pattern` matches what arrived, then destroys it (the client goes away). */
function disconnectAfter(socket: Socket, pattern: RegExp, seen: (data: string) => void): void {
  let data = "";
  const onData = (chunk: string): void => {
    data += chunk;
    if (!pattern.test(data)) return;
    socket.off("data", onData);
    seen(data);
    socket.destroy();
  };
  socket.on("data", onData);
}

/** A 2026-07-28 request (the `_meta` envelope), with extra `_meta` members such as a progress token. */
function modern(
  method: string,
  params: Record<string, unknown>,
  id: number,
  meta: Record<string, unknown> = {},
): string {
  const body = JSON.parse(modernRpc(method, params, id)) as { params: { _meta: Record<string, unknown> } };
  Object.assign(body.params._meta, meta);
  return JSON.stringify(body);
}

/** The 2026-07-28 request headers that must agree with a `tools/call` body. */
const modernHeaders = (tool: string): string =>
  `MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: ${tool}\r\n`;

const PROGRESS_EVENT = /event: message\r?\ndata: \{[^\n]*"notifications\/progress"/;

/** Stateless (modern era) calls: a ticker over SSE and a waiting JSON call, each dropped mid-stream. */
async function disconnectStateless(count: number, address: string): Promise<string[]> {
  const heads: string[] = [];
  const tickers = Array.from({ length: count }, (_, i) =>
    rawSocket(address, (socket) => {
      disconnectAfter(socket, PROGRESS_EVENT, (data) => heads.push(data.slice(0, data.indexOf("\r\n\r\n"))));
      socket.write(
        mcpRequest(
          modern("tools/call", { name: "ticker", arguments: { ms: 20 } }, i, { progressToken: i }),
          token,
          modernHeaders("ticker"),
        ),
      );
    }),
  );
  const started = (await stats()).counters.started;
  const waiters = Array.from({ length: count }, (_, i) =>
    rawSocket(address, (socket) => {
      socket.write(
        mcpRequest(modern("tools/call", { name: "waits", arguments: {} }, i), token, modernHeaders("waits")),
      );
      // Dropped once every waiting call has started (the handler holds its signal).
      void statsUntil((current) => current.counters.started >= started + 2 * count, 100).then(() =>
        socket.destroy(),
      );
    }),
  );
  await Promise.all([...tickers, ...waiters]);
  return heads;
}

const LEGACY = "2025-11-25";

/** Stateful (2025 era): opens a session, starts a ticker in it, and drops the stream mid-way. */
async function disconnectInSession(
  address: string,
): Promise<{ sessionId: string; init: string; call: string }> {
  const init = await rawSocket(address, (socket) => {
    socket.write(
      mcpRequest(
        rpc("initialize", {
          protocolVersion: LEGACY,
          capabilities: {},
          clientInfo: { name: "raw", version: "1" },
        }),
        token,
        "Connection: close\r\n",
      ),
    );
  });
  const sessionId = /mcp-session-id: ([^\r\n]+)/i.exec(init.data)?.[1];
  if (sessionId === undefined) throw new Error(`no session: ${init.data}`);
  const extra = `Mcp-Session-Id: ${sessionId}\r\nMCP-Protocol-Version: ${LEGACY}\r\nConnection: close\r\n`;
  await rawSocket(address, (socket) =>
    socket.write(
      mcpRequest(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), token, extra),
    ),
  );
  const call = await rawSocket(address, (socket) => {
    disconnectAfter(socket, PROGRESS_EVENT, () => undefined);
    socket.write(
      mcpRequest(
        rpc("tools/call", { name: "ticker", arguments: { ms: 20 }, _meta: { progressToken: "s" } }, 7),
        token,
        extra,
      ),
    );
  });
  return { sessionId, init: init.data, call: call.data };
}

beforeAll(async () => {
  issuer = await startTokenIssuer();
  attacker = await issuer.foreignKey();
  token = issuer.mint(issuer.entraV2());
  child = fork(ENTRY, [], {
    execArgv: ["--expose-gc"],
    env: {
      ...process.env,
      ISSUER_INSTANCE: issuer.instance,
      TENANT_ID: TENANT_A,
      CLIENT_ID,
      CLIENT_APP,
      PER_ADDRESS: String(PER_ADDRESS),
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  // Each pending stats() call holds one "message" listener, and the cases poll while others wait.
  child.setMaxListeners(32);
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the abuse server did not start\n${output}`)), 20_000);
    child.once("exit", (code) => reject(new Error(`the abuse server exited with ${code}\n${output}`)));
    const onReady = (message: { type?: string; port?: number }): void => {
      if (message.type !== "ready") return;
      clearTimeout(timer);
      child.off("message", onReady);
      resolve(message.port ?? 0);
    };
    child.on("message", onReady);
  });
  for (let attempt = 0; attempt < 200 && (await get("/readyz")) !== 200; attempt++)
    await new Promise((resolve) => setTimeout(resolve, 25));
}, 30_000);

afterAll(async () => {
  if (process.env["ABUSE_DEBUG"] !== undefined) console.log(output.slice(-5_000));
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.send({ type: "close" });
    await exited;
  }
  await issuer?.close();
});

describe("abuse at the socket (child process, raw sockets on loopback)", () => {
  it("warm-up: every case at a fraction of the scale, then the baseline (nothing open, nothing in flight)", async () => {
    expect(await get("/readyz")).toBe(200);
    // The probes work: a valid call runs the tool; a wrong-signature token reaches WebCrypto once.
    const before = await stats();
    const valid = await rawSocket("127.0.0.1", (socket) =>
      socket.write(
        mcpRequest(rpc("tools/call", { name: "record", arguments: {} }), token, "Connection: close\r\n"),
      ),
    );
    expect(valid.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const forged = issuer.mint(issuer.entraV2({ uti: "warm" }), { key: attacker.privateKey });
    const refused = await rawSocket("127.0.0.1", (socket) =>
      socket.write(mcpRequest(rpc("ping"), forged, "Connection: close\r\n")),
    );
    expect(refused.data).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    const after = await stats();
    expect(after.counters.record).toBe(before.counters.record + 1);
    // The valid token is verified once (then cached), the forged one once.
    expect(after.counters.verify - before.counters.verify).toBe(2);

    // At a quarter to half of the measured scale, so that JIT-compiled code and Node's pools (HTTP
    // parsers, socket wrappers) are part of the baseline rather than counted as growth.
    await Promise.all([
      slowloris(50, "127.0.0.1").done,
      slowBodies(10, "127.0.0.1"),
      oversized(9, "127.0.0.1"),
      idleKeepAlive(500, "127.0.0.1", () => Promise.resolve()),
      flood(600, "127.0.0.10"),
    ]);
    await smuggle("127.0.0.1");
    await disconnectStateless(4, "127.0.0.1");
    await Promise.all([disconnectInSession("127.0.0.1"), disconnectInSession("127.0.0.1")]);

    const quiet = (current: Stats): boolean =>
      current.connections === 0 && current.inFlight === 0 && current.sessions === 0;
    // Two consecutive equal resource snapshots: background timers have settled.
    let previous = await statsUntil(quiet);
    baseline = await stats(true);
    for (let attempt = 0; attempt < 30; attempt++) {
      if (
        quiet(baseline) &&
        JSON.stringify(sorted(previous.resources)) === JSON.stringify(sorted(baseline.resources))
      )
        break;
      previous = baseline;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await statsUntil(quiet);
      baseline = await stats(true);
    }
    expect(quiet(baseline)).toBe(true);
    console.log(
      `socket-abuse baseline: heapUsed ${(baseline.heapUsed / 1e6).toFixed(1)} MB, rss ${(baseline.rss / 1e6).toFixed(1)} MB, resources ${JSON.stringify(sorted(baseline.resources))}, listeners ${JSON.stringify(baseline.listeners)}`,
    );
  }, 40_000);

  it("slowloris headers: 200 sockets trickling header lines each get exactly 408 and are closed by the server; /healthz stays 200", async () => {
    const running = slowloris(200, "127.0.0.2");
    await running.started;
    const during = await stats();
    console.log(`slowloris: ${during.connections} connections open while every client trickles`);
    expect(await get("/healthz")).toBe(200);
    const results = await running.done;
    expect(tally(results)).toEqual({ [`server|${RESPONSE_408}`]: 200 });
    expect(await get("/healthz")).toBe(200);
    const after = await statsUntil(settled);
    expect(after.connections).toBe(0);
    expect(sorted(after.resources)).toEqual(sorted(baseline.resources));
  }, 30_000);

  it("slow bodies: 50 authenticated requests trickling their body get exactly 408 at requestTimeoutMs and are closed; the tool never runs", async () => {
    const before = await stats();
    const results = await slowBodies(50, "127.0.0.3");
    expect(tally(results)).toEqual({ [`server|${RESPONSE_408}`]: 50 });
    expect(await get("/healthz")).toBe(200);
    const after = await statsUntil(settled);
    expect(after.counters.record).toBe(before.counters.record);
    expect(after.connections).toBe(0);
    expect(after.inFlight).toBe(0);
    expect(sorted(after.resources)).toEqual(sorted(baseline.resources));
  }, 30_000);

  it("oversized headers: 30 heads over maxHeaderBytes (one big header, many headers, a huge bearer) get exactly 431 and the connection closed", async () => {
    const before = await stats();
    const results = await oversized(30, "127.0.0.4");
    expect(tally(results)).toEqual({ [`server|${RESPONSE_431}`]: 30 });
    const after = await statsUntil(settled);
    // Refused by the HTTP parser: no signature check, no tool.
    expect(after.counters.verify).toBe(before.counters.verify);
    expect(after.connections).toBe(0);
    expect(sorted(after.resources)).toEqual(sorted(baseline.resources));
  }, 30_000);

  it("1,000 idle keep-alive connections: all answered with keep-alive, /healthz 200 meanwhile, each closed by the server after keepAliveTimeoutMs with nothing more sent; handles back to baseline", async () => {
    let open = -1;
    let healthDuring = 0;
    const { results, answered } = await idleKeepAlive(1_000, "127.0.0.5", async () => {
      open = (await stats()).connections;
      healthDuring = await get("/healthz");
    });
    expect(answered).toHaveLength(1_000);
    expect(
      answered.filter(
        (head) =>
          head.startsWith("HTTP/1.1 200 OK\r\n") &&
          head.includes("\r\nConnection: keep-alive\r\n") &&
          head.includes("\r\nKeep-Alive: timeout=1\r\n"),
      ),
    ).toHaveLength(1_000);
    // Taken once half were answered (printed; how many overlap depends on the machine's speed).
    console.log(`idle keep-alive: ${open} connections open once 500 of 1000 were answered`);
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThanOrEqual(1_000);
    expect(healthDuring).toBe(200);
    // Every one closed by the server, with nothing sent after its answer.
    const closed = results.filter(
      (result) => result.closedBy === "server" && result.data.endsWith('{"status":"ok"}'),
    );
    expect(closed).toHaveLength(1_000);
    expect(await get("/healthz")).toBe(200);
    const after = await statsUntil(settled);
    expect(after.connections).toBe(0);
    expect(sorted(after.resources)).toEqual(sorted(baseline.resources));
    expect(after.listeners).toEqual(baseline.listeners);
  }, 40_000);

  it(`a flood of 2,000 bad tokens from one address: exactly ${PER_ADDRESS} reach authentication (401), the other 1,800 get 429 problem+json without any signature check`, async () => {
    const before = await stats();
    const result = await flood(2_000, "127.0.0.6");
    const after = await stats();
    expect(Object.fromEntries(result.statuses)).toEqual({ 401: PER_ADDRESS, 429: 2_000 - PER_ADDRESS });
    // "Before crypto": WebCrypto verified exactly the forged tokens the limiter let through.
    expect(after.counters.verify - before.counters.verify).toBe(result.forgedAdmitted);
    expect(result.forgedAdmitted).toBeLessThanOrEqual(PER_ADDRESS);
    expect(result.forgedLimited).toBe(1_000 - result.forgedAdmitted);
    expect(result.forgedLimited).toBeGreaterThanOrEqual(1_000 - PER_ADDRESS);
    expect(after.counters.record).toBe(before.counters.record);
    for (const body of result.limitedBodies) {
      expect(body).toMatchObject({
        type: QUOTA_EXCEEDED,
        title: "Request cannot be satisfied as assigned quota has been exceeded",
        status: 429,
        "violated-policies": ["address"],
      });
      expect((body as { detail: string }).detail).toMatch(/^Too many requests: retry in \d+ s$/);
    }
    for (const headers of result.limitedHeaders) {
      expect(headers["content-type"]).toBe("application/problem+json");
      expect(Number(headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(headers["ratelimit-policy"]).toMatch(new RegExp(`^"address";q=${PER_ADDRESS};w=60;pk=:`));
      expect(headers["ratelimit"]).toMatch(/^"address";r=0;t=\d+;pk=:[A-Za-z0-9+/=]+:$/);
    }
    // Other addresses are unaffected; the process is healthy.
    expect(await get("/healthz")).toBe(200);
    const valid = await rawSocket("127.0.0.1", (socket) =>
      socket.write(
        mcpRequest(
          rpc("tools/call", { name: "echo", arguments: { text: "still" } }),
          token,
          "Connection: close\r\n",
        ),
      ),
    );
    expect(valid.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(valid.data).toContain('"text":"still"');
    const settledAfter = await statsUntil(settled);
    expect(settledAfter.connections).toBe(0);
  }, 40_000);

  it("request smuggling shapes: each gets exactly 400 with Connection: close, and the smuggled call never runs", async () => {
    const before = await stats();
    const results = await smuggle("127.0.0.7");
    const expected = Object.fromEntries(
      Object.keys(results).map((name) => [name, { data: RESPONSE_400, closedBy: "server" }]),
    );
    expect(results).toEqual(expected);
    const after = await stats();
    expect(after.counters.record).toBe(before.counters.record);

    // Control: the same smuggled bytes pipelined after a well-framed request are a second request, and run.
    const control = await rawSocket("127.0.0.7", (socket) => {
      socket.write(mcpRequest(rpc("ping")) + SMUGGLED());
      setTimeout(() => socket.end(), 500);
    });
    expect(control.data.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(2);
    expect((await stats()).counters.record).toBe(before.counters.record + 1);
    expect((await statsUntil(settled)).connections).toBe(0);
  }, 30_000);

  it("clients that disconnect mid-stream: every tool's signal aborts; nothing in flight, no leaked timers, sockets or listeners", async () => {
    const before = await stats();
    const heads = await disconnectStateless(20, "127.0.0.8");
    expect(heads).toHaveLength(20);
    for (const head of heads) {
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head).toContain("\r\ncontent-type: text/event-stream\r\n");
    }
    const after = await statsUntil(
      (current) => current.counters.aborted === before.counters.aborted + 40 && current.inFlight === 0,
    );
    expect(after.counters.started - before.counters.started).toBe(40);
    expect(after.counters.aborted - before.counters.aborted).toBe(40);
    expect(after.counters.finished - before.counters.finished).toBe(40);
    expect(after.inFlight).toBe(0);
    const settledAfter = await statsUntil(settled);
    expect(sorted(settledAfter.resources)).toEqual(sorted(baseline.resources));
    expect(settledAfter.listeners).toEqual(baseline.listeners);
  }, 30_000);

  it("stateful mode: 10 sessions whose tool streams are dropped mid-way are closed by the idle timeout, which aborts their tools; the session count returns to 0", async () => {
    const before = await stats();
    const opened = await Promise.all(Array.from({ length: 10 }, () => disconnectInSession("127.0.0.9")));
    expect(new Set(opened.map(({ sessionId }) => sessionId)).size).toBe(10);
    for (const { init, call } of opened) {
      // The client asked for Connection: close; the SDK's SSE answer must not override it.
      expect(init).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(init).toContain("\r\nConnection: close\r\n");
      expect(init.toLowerCase()).not.toContain("connection: keep-alive");
      expect(call).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(call).toContain("\r\ncontent-type: text/event-stream\r\n");
    }
    const aborted = await statsUntil((current) => current.counters.aborted === before.counters.aborted + 10);
    expect(aborted.counters.aborted - before.counters.aborted).toBe(10);
    // Idle sessions close (sessions.idleTimeoutMs 3000): the count returns to the baseline's 0.
    const after = await statsUntil(settled);
    expect(after.sessions).toBe(0);
    expect(after.counters.finished - before.counters.finished).toBe(10);
    expect(sorted(after.resources)).toEqual(sorted(baseline.resources));
    // A closed session's id is answered like any unknown one.
    const gone = await rawSocket("127.0.0.9", (socket) =>
      socket.write(
        mcpRequest(
          rpc("tools/call", { name: "echo", arguments: { text: "again" } }, 8),
          token,
          `Mcp-Session-Id: ${opened[0]?.sessionId ?? ""}\r\nMCP-Protocol-Version: ${LEGACY}\r\nConnection: close\r\n`,
        ),
      ),
    );
    expect(gone.data).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(JSON.parse(gone.data.slice(gone.data.indexOf("\r\n\r\n") + 4))).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32001, message: "Session not found", data: { reason: "session_not_found" } },
    });
  }, 30_000);

  it("afterwards: the process is healthy, and post-GC heapUsed is within 10% of the baseline", async () => {
    expect(child.exitCode).toBeNull();
    expect(await get("/healthz")).toBe(200);
    expect(await get("/readyz")).toBe(200);
    await statsUntil(settled);
    const after = await stats(true);
    console.log(
      `socket-abuse memory: heapUsed ${(baseline.heapUsed / 1e6).toFixed(1)} → ${(after.heapUsed / 1e6).toFixed(1)} MB (${((after.heapUsed / baseline.heapUsed - 1) * 100).toFixed(1)}%; old space ${mb(baseline.spaces["old_space"])} → ${mb(after.spaces["old_space"])} MB, code space ${mb(baseline.spaces["code_space"])} → ${mb(after.spaces["code_space"])} MB), rss ${(baseline.rss / 1e6).toFixed(1)} → ${(after.rss / 1e6).toFixed(1)} MB`,
    );
    expect(after.connections).toBe(0);
    expect(after.sessions).toBe(0);
    expect(after.inFlight).toBe(0);
    expect(sorted(after.resources)).toEqual(sorted(baseline.resources));
    expect(after.listeners).toEqual(baseline.listeners);
    expect(after.heapUsed).toBeLessThanOrEqual(baseline.heapUsed * 1.1);
  }, 30_000);
});
