import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { exportJWK } from "jose";
import { createMcpHost, defineTool, type McpHost } from "paved-mcp";
import { serve, type RunningServer } from "paved-mcp/node";
import { createLogger } from "../../src/telemetry/logger.js";
import { captureLogs, rpc } from "../fixtures/hosts.js";
import {
  CLIENT_APP,
  CLIENT_ID,
  MSA_TENANT,
  TENANT_A,
  TENANT_B,
  nowSeconds,
  startRequestCounter,
  startTokenIssuer,
  type IssuerKey,
  type MintOptions,
  type TokenIssuer,
} from "../fixtures/token-issuer.js";

/*
 * Adversarial tokens and credentials against a real Paved host over real HTTP (node:http on a
 * loopback port), backed by the loopback Entra-shaped token issuer. Every case pins the status, the
 * exact WWW-Authenticate value, the exact body, and that the tool never ran. Afterwards: the process
 * is healthy and no log line (pino at trace, stdout, stderr, console) holds any token's bytes.
 *
 * Requests go through node:http rather than fetch: fetch (undici) drops a `Host` header, and these
 * requests must say `Host: mcp.contoso.com`, the configured resource host. The few that HTTP
 * clients refuse to send (repeated or folded Authorization headers, control characters) are written
 * on a raw node:net socket.
 */

const RESOURCE_HOST = "https://mcp.contoso.com";
const HOST = "mcp.contoso.com";
const PRM_URL = `${RESOURCE_HOST}/.well-known/oauth-protected-resource/mcp`;
const SCOPE = `api://${CLIENT_ID}/tools.read`;
const GRAPH = "https://graph.microsoft.com";
const OTHER_APP = "eeeeeeee-5555-4555-8555-eeeeeeeeeeee";
const UNKNOWN_SESSION = "5d7f8a8e-0000-4000-8000-000000000000";
const MAX_HEADER_BYTES = 32 * 1024;

// --- Expected answers -------------------------------------------------------------------------

interface Expected {
  readonly status: number;
  /** The exact `WWW-Authenticate` value (sent exactly once), or `null` when none may be sent. */
  readonly challenge: string | null;
  /** The exact body: parsed JSON, or `""` for an empty body (answers from node:http itself). */
  readonly body: unknown;
  /** Further exact header values. */
  readonly headers?: Readonly<Record<string, string>>;
}

const BARE = `Bearer resource_metadata="${PRM_URL}", scope="${SCOPE}"`;

/** AUTH-01/02/03: no usable credentials → a challenge with resource_metadata and scope, no error code. */
const unauthenticated = (): Expected => ({
  status: 401,
  challenge: BARE,
  body: { error: "unauthorized", error_description: "Authentication required" },
});
/** AUTH-05: malformed or repeated credentials → 400 invalid_request. */
const invalidRequest = (description: string): Expected => ({
  status: 400,
  challenge: `${BARE}, error="invalid_request", error_description="${description}"`,
  body: { error: "invalid_request", error_description: description },
});
/** AUTH-07: a bad token → 401 invalid_token. */
const invalidToken = (description: string): Expected => ({
  status: 401,
  challenge: `${BARE}, error="invalid_token", error_description="${description}"`,
  body: { error: "invalid_token", error_description: description },
});
/** ENTRA-11: authenticated, but the client application is not admitted → 403 without a challenge. */
const accessDenied = (): Expected => ({
  status: 403,
  challenge: null,
  body: {
    error: "access_denied",
    error_description: "The client application is not allowed to call this server",
  },
});
/** A transport-level rejection (JSON-RPC error body), e.g. from the edge guard or the session stage. */
const rejected = (status: number, reason: string, message: string, code = -32000): Expected => ({
  status,
  challenge: null,
  body: { jsonrpc: "2.0", id: null, error: { code, message, data: { reason } } },
});
/** node:http itself refused the request head: nothing of Paved ran. */
const refusedByNode = (status: number): Expected => ({ status, challenge: null, body: "" });
/** The probe tool ran and answered. */
const accepted = (): Expected => ({
  status: 200,
  challenge: null,
  body: { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "probe ok" }] } },
});

const EXPIRED = "The access token has expired";
const NOT_YET_VALID = "The access token is not valid yet";
const CLAIMS = "The access token is missing required claims";
const ISSUER = "The access token was issued by an issuer that is not trusted";
const AUDIENCE = "The access token is for another audience";
const SIGNATURE = "The access token signature is invalid";
const ALGORITHM = "The access token's signing algorithm is not accepted";
const NO_TENANT = "The access token has no valid tenant";
const TENANT_NOT_ALLOWED = "The access token is from a tenant that is not allowed";
const VERSION = "The access token version is not accepted";
const UNKNOWN_KEY = "No signing key of the issuer matches the access token";
const KEY_ISSUER = "The signing key is not valid for the access token's issuer";
const NO_GRANTS = "The access token carries neither scopes nor roles";
const SENDER_KEYS = "Keys named by the token itself are never used";
const MALFORMED = "The access token is malformed";
const NOT_SIGNED = "The access token is not signed";

// --- Fixtures ---------------------------------------------------------------------------------

let issuer: TokenIssuer;
/** A second identity provider that is down for the whole run (ENTRA-07 outage, 503). */
let downIssuer: TokenIssuer;
/** Stands in for attacker.test: jku / x5u targets (JWT-06). */
let attacker: Awaited<ReturnType<typeof startRequestCounter>>;
/** Published from the start, bound to the MSA tenant's issuer (ENTRA-05). */
let msaBoundKey: IssuerKey;
/** Published from the start, bound to tenant B's exact issuer (ENTRA-05). */
let tenantBBoundKey: IssuerKey;
let attackerKey: IssuerKey;

const logs = captureLogs();
/** Everything the process wrote to stdout / stderr / console while the hosts ran. */
const streamSpies: { mock: { calls: unknown[][] } }[] = [];

/** Every token sent in this file: none of their bytes may appear in any log line. */
const sentTokens = new Set<string>();
function track(token: string): string {
  sentTokens.add(token);
  return token;
}

let toolCalls = 0;
const probe = defineTool({
  name: "probe",
  sdkContext: true,
  description: "Counts its calls; a careless tool that even logs the bearer it was called with",
  handler: (_args, ctx) => {
    toolCalls++;
    // The logger's redaction is the second line of defence: a tool that logs `token` must not leak it.
    ctx.log.trace({ token: ctx.mcp.http?.authInfo?.token, user: ctx.user.id }, "probe ran");
    return "probe ok";
  },
});

type Target = "single" | "multi" | "outage";
const running: Partial<Record<Target, RunningServer>> = {};

function hostFor(
  name: string,
  instance: string,
  tenantId: string,
  server: { readonly stateless?: boolean } = {},
): McpHost {
  const host = createMcpHost({
    config: {
      azureAd: { instance, tenantId, clientId: CLIENT_ID, allowedClientApps: [CLIENT_APP] },
      server: {
        resourceHost: RESOURCE_HOST,
        supportedScopes: [SCOPE],
        // Room for a token just over the 16 KiB bearer limit, so that limit (not node's) is what answers.
        maxHeaderBytes: MAX_HEADER_BYTES,
        ...server,
      },
      telemetry: { logLevel: "trace" },
    },
    logger: createLogger({ level: "trace", serviceName: name, destination: logs.stream }),
    server: { name, version: "1.0.0" },
    tools: [probe],
  });
  return host;
}

async function waitReady(target: Target): Promise<void> {
  const url = new URL("/readyz", running[target]!.url);
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await fetch(url)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${target} host never became ready`);
}

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) streamSpies.push(vi.spyOn(stream, "write"));
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const)
    streamSpies.push(vi.spyOn(console, method));

  issuer = await startTokenIssuer();
  downIssuer = await startTokenIssuer();
  downIssuer.down();
  attacker = await startRequestCounter();
  // Keys with their own `issuer` member, published before the hosts load the key set.
  msaBoundKey = await issuer.addKey({ kid: "k-msa", issuer: issuer.v2Issuer(MSA_TENANT) });
  tenantBBoundKey = await issuer.addKey({ kid: "k-tenant-b", issuer: issuer.v2Issuer(TENANT_B) });
  attackerKey = await issuer.foreignKey();

  const single = hostFor("single-tenant", issuer.instance, TENANT_A, { stateless: false });
  const multi = hostFor("multi-tenant", issuer.instance, "organizations");
  const outage = hostFor("outage", downIssuer.instance, TENANT_A);
  running.single = await serve(single, { port: 0, handleSignals: false });
  running.multi = await serve(multi, { port: 0, handleSignals: false });
  running.outage = await serve(outage, { port: 0, handleSignals: false });
  await waitReady("single");
  await waitReady("multi");
});

afterAll(async () => {
  await Promise.all(Object.values(running).map((server) => server.close()));
  await Promise.all([issuer.close(), downIssuer.close(), attacker.close()]);
  vi.restoreAllMocks();
});

// --- Requests ---------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  /** Every header field as received, names in lower case. */
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly body: string;
}

interface Send {
  readonly method?: string;
  /** Query string including `?`, appended to `/mcp`. */
  readonly query?: string;
  /** Replaces the JSON-RPC body (a tools/call of the probe). */
  readonly body?: string;
  /** Merged over Host, Content-Type and Accept; `undefined` removes one. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

const CALL = rpc("tools/call", { name: "probe", arguments: {} });
const BASE_HEADERS = {
  host: HOST,
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

/** One real HTTP request with node:http (which, unlike fetch, lets us say `Host: mcp.contoso.com`). */
function send(target: Target, options: Send = {}): Promise<Answer> {
  const server = running[target]!;
  const method = options.method ?? "POST";
  const body = options.body ?? (method === "POST" ? CALL : "");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...BASE_HEADERS, ...options.headers }))
    if (value !== undefined) headers[name] = value;
  if (method !== "POST") Reflect.deleteProperty(headers, "content-type");
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        method,
        path: `/mcp${options.query ?? ""}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const rawHeaders: [string, string][] = [];
          for (let index = 0; index + 1 < res.rawHeaders.length; index += 2)
            rawHeaders.push([res.rawHeaders[index]!.toLowerCase(), res.rawHeaders[index + 1]!]);
          resolve({ status: res.statusCode ?? 0, rawHeaders, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    // An accepted SSE stream would never end: that must fail the case, not hang the file.
    req.setTimeout(5_000, () => req.destroy(new Error("no complete answer within 5 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Writes the head verbatim on a socket (what HTTP clients refuse to send) and parses the answer.
 * `requestTarget`: the request line's target, default `/mcp`.
 */
function sendRaw(
  target: Target,
  headerLines: readonly string[],
  { body = CALL, requestTarget = "/mcp" }: { body?: string; requestTarget?: string } = {},
): Promise<Answer> {
  const port = running[target]!.port;
  const head = [
    `POST ${requestTarget} HTTP/1.1`,
    `Host: ${HOST}`,
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    ...headerLines,
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => socket.destroy(), 5_000);
    socket.on("data", (chunk) => chunks.push(chunk));
    // node:http may close while we still write an oversized head: what arrived before that counts.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(guard);
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (end < 0 || status === null) {
        reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const rawHeaders = text
        .slice(0, end)
        .split("\r\n")
        .slice(1)
        .map((line): [string, string] => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        });
      const chunked = rawHeaders.some(
        ([name, value]) => name === "transfer-encoding" && value.toLowerCase() === "chunked",
      );
      resolve({
        status: Number(status[1]),
        rawHeaders,
        body: Buffer.from(chunked ? dechunk(text.slice(end + 4)) : text.slice(end + 4), "latin1").toString(
          "utf8",
        ),
      });
    });
    socket.write(`${head}\r\n\r\n${body}`);
  });
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const line = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (line < 0 || !(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 4 + size);
  }
}

const bearer = (token: string): Send => ({ headers: { authorization: `Bearer ${token}` } });

// --- Tokens -----------------------------------------------------------------------------------

const now = nowSeconds;
const v2 = (overrides?: Readonly<Record<string, unknown>>, tenant?: string): Record<string, unknown> =>
  issuer.entraV2(overrides, tenant);
const mint = (claims: Readonly<Record<string, unknown>>, options?: MintOptions): string =>
  track(issuer.mint(claims, options));
const valid = (): string => mint(v2({ uti: crypto.randomUUID() }));

function tamperClaims(token: string, changes: Record<string, unknown>): string {
  const [header, claims, signature] = token.split(".");
  const decoded = JSON.parse(Buffer.from(claims!, "base64url").toString()) as Record<string, unknown>;
  return track(
    `${header}.${Buffer.from(JSON.stringify({ ...decoded, ...changes })).toString("base64url")}.${signature}`,
  );
}

function flipSignature(token: string): string {
  const dot = token.lastIndexOf(".");
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  signature[10] = (signature[10] ?? 0) ^ 0xff;
  return track(`${token.slice(0, dot + 1)}${signature.toString("base64url")}`);
}

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

// --- The table --------------------------------------------------------------------------------

interface Case {
  readonly name: string;
  readonly target?: Target;
  /** Valid credentials that must be accepted (the positive controls of AUTH-04 and ENTRA-04). */
  readonly valid?: true;
  readonly send: () => Promise<Answer>;
  readonly expected: Expected;
}

const token = (
  name: string,
  make: () => string | Promise<string>,
  expected: Expected,
  target: Target = "single",
): Case => ({
  name,
  target,
  send: async () => send(target, bearer(track(await make()))),
  expected,
});

const cases: Case[] = [
  // AUTH: how credentials travel.
  {
    name: "AUTH-01/03: no Authorization header → 401, bare challenge",
    send: () => send("single"),
    expected: unauthenticated(),
  },
  {
    name: "AUTH-03: Basic scheme → 401, bare challenge (no error=)",
    send: () => send("single", { headers: { authorization: "Basic dXNlcjpwYXNz" } }),
    expected: unauthenticated(),
  },
  {
    name: "AUTH-03: an unknown scheme carrying a valid token (Token …) → 401, bare challenge",
    send: () => send("single", { headers: { authorization: `Token ${valid()}` } }),
    expected: unauthenticated(),
  },
  {
    name: "AUTH-03: an empty Authorization value → 401, bare challenge",
    send: () => sendRaw("single", ["Authorization: "]),
    expected: unauthenticated(),
  },
  {
    name: "AUTH-05: `Bearer` with no token → 400 invalid_request",
    send: () => send("single", { headers: { authorization: "Bearer" } }),
    expected: invalidRequest("The Bearer credentials are empty"),
  },
  {
    name: "AUTH-05: `Bearer` followed only by spaces (raw) → 400 invalid_request",
    send: () => sendRaw("single", ["Authorization: Bearer    "]),
    expected: invalidRequest("The Bearer credentials are empty"),
  },
  {
    name: "AUTH-06: a valid token in the query string only → 401 with no error code: never read",
    send: () => send("single", { query: `?access_token=${valid()}` }),
    expected: unauthenticated(),
  },
  {
    name: "AUTH-05: a valid token in the query AND the header → 400 invalid_request",
    send: () => {
      const token = valid();
      return send("single", { query: `?access_token=${token}`, ...bearer(token) });
    },
    expected: invalidRequest("More than one method of sending the access token"),
  },
  {
    name: "AUTH-05: a percent-encoded access_token query name with a header → 400 invalid_request",
    send: () => send("single", { query: `?access%5Ftoken=${valid()}`, ...bearer(valid()) }),
    expected: invalidRequest("More than one method of sending the access token"),
  },
  {
    name: "AUTH-05: an empty access_token query parameter with a valid header → 400 invalid_request",
    send: () => send("single", { query: "?access_token=", ...bearer(valid()) }),
    expected: invalidRequest("More than one method of sending the access token"),
  },
  {
    name: "AUTH-05: two Authorization headers, both valid (raw socket) → 400 invalid_request",
    send: () => {
      const token = valid();
      return sendRaw("single", [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]);
    },
    expected: invalidRequest("More than one Authorization header"),
  },
  {
    name: "AUTH-05: two Authorization headers, Bearer then Basic (raw socket) → 400 invalid_request",
    send: () => sendRaw("single", [`Authorization: Bearer ${valid()}`, "Authorization: Basic dXNlcjpwYXNz"]),
    expected: invalidRequest("More than one Authorization header"),
  },
  {
    name: "AUTH-05: an empty Authorization header, then a valid one (raw socket) → 400 invalid_request",
    send: () => sendRaw("single", ["Authorization: ", `Authorization: Bearer ${valid()}`]),
    expected: invalidRequest("More than one Authorization header"),
  },
  {
    name: "AUTH-04: lower-case `bearer` with a valid token → 200",
    valid: true,
    send: () => send("single", { headers: { authorization: `bearer ${valid()}` } }),
    expected: accepted(),
  },
  {
    name: "AUTH-04: upper-case `BEARER` with a valid token → 200",
    valid: true,
    send: () => send("single", { headers: { authorization: `BEARER ${valid()}` } }),
    expected: accepted(),
  },
  {
    name: "AUTH-04: two spaces (1*SP) before a valid token → 200",
    valid: true,
    send: () => send("single", { headers: { authorization: `Bearer  ${valid()}` } }),
    expected: accepted(),
  },
  {
    name: "AUTH-04: `Bearer a,b` → 401 invalid_token",
    send: () => send("single", bearer("a,b")),
    expected: invalidToken(MALFORMED),
  },
  {
    name: "AUTH-04: two valid tokens comma-joined in one header (what a proxy makes of two) → 401",
    send: () => send("single", bearer(`${valid()}, Bearer ${valid()}`)),
    expected: invalidToken(MALFORMED),
  },
  {
    name: "AUTH-04: a valid token with a space inside → 401 invalid_token",
    send: () => {
      const token = valid();
      return send("single", bearer(`${token.slice(0, 40)} ${token.slice(40)}`));
    },
    expected: invalidToken(MALFORMED),
  },
  {
    name: "AUTH-04: a valid token with a tab inside → 401 invalid_token",
    send: () => {
      const token = valid();
      return send("single", bearer(`${token.slice(0, 40)}\t${token.slice(40)}`));
    },
    expected: invalidToken(MALFORMED),
  },
  {
    name: "AUTH-04: a valid token with a newline inside (raw socket) → 400 from node:http, before Paved",
    send: () => {
      const token = valid();
      return sendRaw("single", [`Authorization: Bearer ${token.slice(0, 40)}\n${token.slice(40)}`]);
    },
    expected: refusedByNode(400),
  },
  {
    name: "AUTH-04: a valid token folded over two lines (obs-fold, raw socket) → 400 from node:http",
    send: () => {
      const token = valid();
      return sendRaw("single", [`Authorization: Bearer ${token.slice(0, 40)}`, ` ${token.slice(40)}`]);
    },
    expected: refusedByNode(400),
  },
  {
    name: "AUTH-04: non-ASCII bytes in the token → 401 invalid_token",
    send: () => send("single", bearer("ünïcödé.tökén.sïg")),
    expected: invalidToken(MALFORMED),
  },
  {
    name: "AUTH-04: garbage base64 (= inside a segment) → 401 invalid_token",
    send: () => send("single", bearer(track("eyJhbGciOiJSUzI1NiJ9.e30+/=.c2ln"))),
    expected: invalidToken(MALFORMED),
  },
  {
    name: "AUTH-13: unknown MCP-Session-Id and no token → 401 (not 404: no session oracle)",
    send: () => send("single", { headers: { "mcp-session-id": UNKNOWN_SESSION } }),
    expected: unauthenticated(),
  },
  {
    name: "AUTH-08/13: unknown MCP-Session-Id with an expired token → 401 invalid_token",
    send: () =>
      send("single", {
        headers: {
          "mcp-session-id": UNKNOWN_SESSION,
          authorization: `Bearer ${mint(v2({ exp: now() - 3600 }))}`,
        },
      }),
    expected: invalidToken(EXPIRED),
  },
  {
    name: "AUTH-08: unknown MCP-Session-Id with a valid token → 404 session_not_found, tool not run",
    send: () =>
      send("single", {
        headers: { "mcp-session-id": UNKNOWN_SESSION, authorization: `Bearer ${valid()}` },
      }),
    expected: rejected(404, "session_not_found", "Session not found", -32001),
  },
  {
    name: "AUTH-12: expired token on tools/call with Accept: text/event-stream first → 401 JSON, no SSE",
    send: () =>
      send("single", {
        headers: {
          accept: "text/event-stream, application/json",
          authorization: `Bearer ${mint(v2({ exp: now() - 3600 }))}`,
        },
      }),
    expected: invalidToken(EXPIRED),
  },
  {
    name: "AUTH-12: expired token on the GET stream (Accept: text/event-stream) → 401 JSON, no SSE",
    send: () =>
      send("single", {
        method: "GET",
        headers: {
          accept: "text/event-stream",
          "mcp-session-id": UNKNOWN_SESSION,
          authorization: `Bearer ${mint(v2({ exp: now() - 3600 }))}`,
        },
      }),
    expected: invalidToken(EXPIRED),
  },
  {
    name: "AUTH-08: DELETE of a session with a tampered token → 401 invalid_token",
    send: () =>
      send("single", {
        method: "DELETE",
        headers: {
          "mcp-session-id": UNKNOWN_SESSION,
          authorization: `Bearer ${flipSignature(mint(v2()))}`,
        },
      }),
    expected: invalidToken(SIGNATURE),
  },
  {
    name: "AUTH-13: a foreign Origin and no token → 403 origin_not_allowed (before auth)",
    send: () => send("single", { headers: { origin: "https://evil.example" } }),
    expected: rejected(403, "origin_not_allowed", "Forbidden: the Origin is not allowed"),
  },
  {
    name: "AUTH-13: a foreign Host with a valid token → 403 host_not_allowed (DNS rebinding)",
    send: () => send("single", { headers: { host: "evil.example", authorization: `Bearer ${valid()}` } }),
    expected: rejected(403, "host_not_allowed", "Forbidden: the Host header is not an allowed host name"),
  },
  {
    name: "AUTH-06: a valid token only in the JSON-RPC body → 401, bare challenge (the body is never a credential)",
    send: () => {
      const token = valid();
      return send("single", {
        body: rpc("tools/call", {
          name: "probe",
          arguments: { access_token: token },
          _meta: { access_token: token, authorization: `Bearer ${token}` },
        }),
      });
    },
    expected: unauthenticated(),
  },
  {
    name: "AUTH-06: an absolute-form request target carrying ?access_token (raw socket) → 401, never read",
    send: () => sendRaw("single", [], { requestTarget: `http://${HOST}/mcp?access_token=${valid()}` }),
    expected: unauthenticated(),
  },

  // JWT-08: size and shape, before any crypto.
  token(
    "JWT-08: a token over 16 KiB (16 KiB + 1, valid b64token) → 401 invalid_token",
    () => mint(v2({ pad: "x".repeat(16 * 1024) })).slice(0, 16 * 1024 + 1),
    invalidToken("The access token is too large"),
  ),
  token(
    "JWT-08: a correctly signed token over 16 KiB → 401 invalid_token",
    () => mint(v2({ pad: "x".repeat(16 * 1024) })),
    invalidToken("The access token is too large"),
  ),
  {
    name: "JWT-08: a request head over maxHeaderBytes (40 KiB token, raw) → 431 from node:http",
    send: () => sendRaw("single", [`Authorization: Bearer ${mint(v2({ pad: "x".repeat(40 * 1024) }))}`]),
    expected: refusedByNode(431),
  },
  token(
    "JWT-08: a JWE (5 segments) → 401 invalid_token",
    () => issuer.mintJwe(v2()),
    invalidToken("Encrypted access tokens (JWE) are not accepted"),
  ),
  token(
    "JWT-08: two segments → 401",
    () => mint(v2()).split(".").slice(0, 2).join("."),
    invalidToken("The access token is not a JWT"),
  ),
  token(
    "JWT-08: four segments → 401",
    () => `${mint(v2())}.AAAA`,
    invalidToken("The access token is not a JWT"),
  ),
  token(
    "JWT-08: garbage base64 (+ and / in the claims segment) → 401",
    () => "eyJhbGciOiJSUzI1NiJ9.e30+/.c2ln",
    invalidToken("The access token claims are not valid"),
  ),
  token(
    "JWT-08: header JSON garbage → 401",
    () => `${Buffer.from("{not json").toString("base64url")}.e30.c2ln`,
    invalidToken("The access token header is not valid"),
  ),
  token(
    "JWT-08: header is a JSON array → 401",
    () => `${segment(["RS256"])}.e30.c2ln`,
    invalidToken("The access token header is not valid"),
  ),
  token(
    "JWT-08: claims are not JSON → 401",
    () => mint({}, { rawClaims: "not json at all" }),
    invalidToken("The access token claims are not valid"),
  ),
  token(
    "JWT-08: claims are a JSON array → 401",
    () => mint({}, { rawClaims: "[1,2,3]" }),
    invalidToken("The access token claims are not valid"),
  ),
  token(
    "JWT-08: an empty RS256 signature → 401",
    () => mint(v2()).replace(/\.[^.]+$/, "."),
    invalidToken(NOT_SIGNED),
  ),
  token(
    "JWT-08: `=` padding after a valid signature → 401",
    () => `${mint(v2())}=`,
    invalidToken(NOT_SIGNED),
  ),
  token(
    "RFC 7515 §4.1.11: a crit header → 401",
    () => mint(v2(), { header: { crit: ["exp"], exp: 1 } }),
    invalidToken("Critical header parameters are not supported"),
  ),
  token(
    "JWT-08: kid is a number → 401",
    () => mint(v2(), { header: { kid: 1 } }),
    invalidToken("The access token key ID is not valid"),
  ),

  // JWT-01/02: algorithms.
  token(
    "JWT-02: alg none, empty signature → 401",
    () => mint(v2(), { alg: "none" }),
    invalidToken(ALGORITHM),
  ),
  token(
    "JWT-02: alg NONE (case games) → 401",
    () => mint(v2(), { alg: "none", header: { alg: "NONE" } }),
    invalidToken(ALGORITHM),
  ),
  token(
    "JWT-01: HS256 signed with the issuer's public key PEM (key confusion) → 401",
    () => mint(v2(), { alg: "HS256", secret: issuer.publicKeyPem() }),
    invalidToken(ALGORITHM),
  ),
  token(
    "JWT-01: RS384 when only RS256 is allowed → 401",
    () => mint(v2(), { alg: "RS384" }),
    invalidToken(ALGORITHM),
  ),
  token(
    "JWT-01: PS256 when only RS256 is allowed → 401",
    () => mint(v2(), { alg: "PS256" }),
    invalidToken(ALGORITHM),
  ),
  token(
    "JWT-01: alg missing → 401",
    () => mint(v2(), { header: { alg: undefined } }),
    invalidToken(ALGORITHM),
  ),

  // Signatures and keys.
  token(
    "tampered payload (scp widened, signature kept) → 401",
    () => tamperClaims(mint(v2({ scp: "tools.read" })), { scp: "tools.read tools.admin" }),
    invalidToken(SIGNATURE),
  ),
  token(
    "tampered payload (oid swapped to another user, signature kept) → 401",
    () => tamperClaims(mint(v2()), { oid: OTHER_APP }),
    invalidToken(SIGNATURE),
  ),
  token(
    "tampered signature (one byte flipped) → 401",
    () => flipSignature(mint(v2())),
    invalidToken(SIGNATURE),
  ),
  token(
    "a token of another issuer whose key reuses the kid k1 → 401",
    () => track(downIssuer.mint(v2(), { kid: "k1" })),
    invalidToken(SIGNATURE),
  ),
  token(
    "signed by an attacker's key under the issuer's kid → 401",
    () => mint(v2(), { key: attackerKey.privateKey }),
    invalidToken(SIGNATURE),
  ),
  token(
    "ENTRA-07: an unknown kid → 401",
    () => mint(v2(), { header: { kid: "no-such-kid" } }),
    invalidToken(UNKNOWN_KEY),
  ),
  token(
    "ENTRA-07: an attacker's key under its own kid → 401",
    () => mint(v2(), { kid: "attacker", key: attackerKey.privateKey }),
    invalidToken(UNKNOWN_KEY),
  ),
  token(
    "ENTRA-07: no kid while several keys are published → 401",
    () => mint(v2(), { header: { kid: undefined } }),
    invalidToken(UNKNOWN_KEY),
  ),
  token(
    "JWT-06: a jku header pointing at attacker.test → 401, never fetched",
    () => mint(v2(), { header: { jku: `${attacker.url}/jwks` } }),
    invalidToken(SENDER_KEYS),
  ),
  token(
    "JWT-06: an x5u header → 401, never fetched",
    () => mint(v2(), { header: { x5u: `${attacker.url}/cert.pem` } }),
    invalidToken(SENDER_KEYS),
  ),
  token(
    "JWT-06: an embedded jwk signed by the attacker → 401",
    async () =>
      mint(v2(), {
        header: { jwk: await exportJWK(attackerKey.publicKey), kid: "attacker" },
        key: attackerKey.privateKey,
      }),
    invalidToken(SENDER_KEYS),
  ),
  token(
    "ENTRA-05: a key bound to the MSA issuer signs a tenant-A token → 401",
    () => mint(v2(), { kid: msaBoundKey.kid }),
    invalidToken(KEY_ISSUER),
  ),
  token(
    "ENTRA-05: a key bound to tenant B's exact issuer signs a tenant-A token → 401",
    () => mint(v2(), { kid: tenantBBoundKey.kid }),
    invalidToken(KEY_ISSUER),
  ),

  // JWT-04: lifetime.
  token(
    "JWT-04/AUTH-07: expired an hour ago → 401",
    () => mint(v2({ exp: now() - 3600 })),
    invalidToken(EXPIRED),
  ),
  token(
    "JWT-04: expired just beyond the 60 s skew → 401",
    () => mint(v2({ exp: now() - 65 })),
    invalidToken(EXPIRED),
  ),
  token(
    "JWT-04: not yet valid (nbf = now+600) → 401",
    () => mint(v2({ nbf: now() + 600 })),
    invalidToken(NOT_YET_VALID),
  ),
  token("JWT-04: exp missing → 401", () => mint(v2({ exp: undefined })), invalidToken(CLAIMS)),
  token("JWT-04: exp as a string → 401", () => mint(v2({ exp: String(now() + 600) })), invalidToken(CLAIMS)),
  token("JWT-04: nbf as a string → 401", () => mint(v2({ nbf: "yesterday" })), invalidToken(CLAIMS)),

  // JWT-03 / ENTRA-01: issuer.
  token("JWT-03: iss missing → 401", () => mint(v2({ iss: undefined })), invalidToken(ISSUER)),
  token(
    "JWT-03: iss with a trailing slash → 401",
    () => mint(v2({ iss: `${issuer.v2Issuer(TENANT_A)}/` })),
    invalidToken(ISSUER),
  ),
  token(
    "JWT-03: iss in upper case → 401",
    () => mint(v2({ iss: issuer.v2Issuer(TENANT_A.toUpperCase()) })),
    invalidToken(ISSUER),
  ),
  token(
    "JWT-03: iss of an unknown host → 401",
    () => mint(v2({ iss: `https://login.evil.example/${TENANT_A}/v2.0` })),
    invalidToken(ISSUER),
  ),
  token(
    "SEC-03: iss pointing at instance metadata → 401",
    () => mint(v2({ iss: "http://169.254.169.254/x" })),
    invalidToken(ISSUER),
  ),
  token(
    "ENTRA-01: a v2 token carrying the v1 issuer → 401",
    () => mint(v2({ iss: issuer.v1Issuer(TENANT_A) })),
    invalidToken(ISSUER),
  ),
  token(
    "ENTRA-04: tid/iss mismatch (tid A, iss of B) → 401",
    () => mint(v2({ iss: issuer.v2Issuer(TENANT_B) })),
    invalidToken(ISSUER),
  ),

  // AUTH-09 / ENTRA-01: audience.
  token("AUTH-09: aud is Microsoft Graph → 401", () => mint(v2({ aud: GRAPH })), invalidToken(AUDIENCE)),
  token(
    "AUTH-09: aud is another app's GUID → 401",
    () => mint(v2({ aud: OTHER_APP })),
    invalidToken(AUDIENCE),
  ),
  token(
    "ENTRA-01: aud is the MCP URL (Entra never issues that for v2) → 401",
    () => mint(v2({ aud: `${RESOURCE_HOST}/mcp` })),
    invalidToken(AUDIENCE),
  ),
  token(
    "ENTRA-03: aud api://CID/ (trailing slash) → 401",
    () => mint(v2({ aud: `api://${CLIENT_ID}/` })),
    invalidToken(AUDIENCE),
  ),
  token("AUTH-09: aud missing → 401", () => mint(v2({ aud: undefined })), invalidToken(AUDIENCE)),
  token(
    "AUTH-09: aud array without this API → 401",
    () => mint(v2({ aud: [GRAPH, OTHER_APP] })),
    invalidToken(AUDIENCE),
  ),

  // ENTRA-04: tenants.
  token("ENTRA-04: tid missing → 401", () => mint(v2({ tid: undefined })), invalidToken(NO_TENANT)),
  token(
    "ENTRA-04: tid is not a GUID (contoso.com) → 401",
    () => mint(v2({ tid: "contoso.com", iss: issuer.v2Issuer("contoso.com") })),
    invalidToken(NO_TENANT),
  ),
  token("ENTRA-04: tid is a number → 401", () => mint(v2({ tid: 7 })), invalidToken(NO_TENANT)),
  token(
    "ENTRA-04: a foreign tenant on a single-tenant app → 401",
    () => mint(v2({}, TENANT_B)),
    invalidToken(TENANT_NOT_ALLOWED),
  ),
  token(
    "ENTRA-04: the MSA tenant on a single-tenant app → 401",
    () => mint(v2({}, MSA_TENANT)),
    invalidToken(TENANT_NOT_ALLOWED),
  ),

  // ENTRA-02: token versions.
  token("ENTRA-02: a v1 token on a v2-only app → 401", () => mint(issuer.entraV1()), invalidToken(VERSION)),
  token("ENTRA-02: ver missing → 401", () => mint(v2({ ver: undefined })), invalidToken(VERSION)),
  token("ENTRA-02: ver 3.0 → 401", () => mint(v2({ ver: "3.0" })), invalidToken(VERSION)),

  // ENTRA-06 / JWT-07 / ENTRA-10: what the token grants and who it names.
  token(
    "JWT-07: an Entra ID token (aud CID, v2 iss, nonce, no scp/roles) → 401",
    () => mint(v2({ scp: undefined, nonce: "n-0S6_WzA2Mj", aio: "x" })),
    invalidToken(NO_GRANTS),
  ),
  token("ENTRA-06: neither scp nor roles → 401", () => mint(v2({ scp: undefined })), invalidToken(NO_GRANTS)),
  token(
    "ENTRA-06: empty scp and empty roles → 401",
    () => mint(v2({ scp: "", roles: [] })),
    invalidToken(NO_GRANTS),
  ),
  token(
    "ENTRA-08: roles as a string, not an array → 401",
    () => mint(v2({ scp: undefined, roles: "Tools.Execute.All" })),
    invalidToken(CLAIMS),
  ),
  token(
    "ENTRA-10: a user token without oid → 401",
    () => mint(v2({ oid: undefined })),
    invalidToken("The access token has no object ID"),
  ),

  // ENTRA-11: client applications.
  token(
    "ENTRA-11: azp not in allowedClientApps → 403 access_denied",
    () => mint(v2({ azp: OTHER_APP })),
    accessDenied(),
  ),
  token(
    "ENTRA-11: no azp/appid with allowedClientApps set → 403 access_denied",
    () => mint(v2({ azp: undefined })),
    accessDenied(),
  ),

  // The multi-tenant (`organizations`) host.
  token(
    "ENTRA-04 (organizations): a token of the MSA tenant → 401",
    () => mint(v2({}, MSA_TENANT)),
    invalidToken(TENANT_NOT_ALLOWED),
    "multi",
  ),
  token(
    "ENTRA-04 (organizations): tid A with the issuer of B → 401",
    () => mint(v2({ iss: issuer.v2Issuer(TENANT_B) })),
    invalidToken(ISSUER),
    "multi",
  ),
  token(
    "ENTRA-04 (organizations): an upper-case tid against the lower-case issuer → 401",
    () => mint(v2({ tid: TENANT_A.toUpperCase() })),
    invalidToken(ISSUER),
    "multi",
  ),
  token(
    "ENTRA-05 (organizations): a key bound to the MSA issuer signs a tenant-A token → 401",
    () => mint(v2(), { kid: msaBoundKey.kid }),
    invalidToken(KEY_ISSUER),
    "multi",
  ),
  token(
    "ENTRA-05 (organizations): a key bound to tenant B signs a tenant-A token → 401",
    () => mint(v2(), { kid: tenantBBoundKey.kid }),
    invalidToken(KEY_ISSUER),
    "multi",
  ),
  token(
    "ENTRA-02 (organizations): a v1 token on a v2-only app → 401",
    () => mint(issuer.entraV1({}, TENANT_B)),
    invalidToken(VERSION),
    "multi",
  ),
  {
    name: "ENTRA-04 (organizations): a valid tenant-B token → 200",
    target: "multi",
    valid: true,
    send: () => send("multi", bearer(mint(v2({}, TENANT_B)))),
    expected: accepted(),
  },

  // ENTRA-07: the identity provider is down and nothing cached can decide.
  {
    name: "ENTRA-07: keys unavailable → 503 temporarily_unavailable with Retry-After, never 401",
    target: "outage",
    send: () => send("outage", bearer(track(downIssuer.mint(downIssuer.entraV2())))),
    expected: {
      status: 503,
      challenge: null,
      body: {
        error: "temporarily_unavailable",
        error_description: "The identity provider's signing keys are not available yet",
      },
      headers: { "retry-after": "5" },
    },
  },
];

let invalidAccepted = 0;

describe("adversarial credentials against a served Entra host (real HTTP)", () => {
  it("the table is at least 60 cases, and the probe works with a valid token (control)", async () => {
    expect(cases.filter((item) => item.valid !== true).length).toBeGreaterThanOrEqual(60);
    const before = toolCalls;
    const answer = await send("single", bearer(valid()));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(accepted().body);
    expect(toolCalls).toBe(before + 1);
  });

  it.each(cases)("$name", async ({ send: make, expected, valid: isValid }) => {
    const before = toolCalls;
    const answer = await make();
    if (isValid !== true && answer.status < 300) invalidAccepted++;

    expect(answer.status).toBe(expected.status);
    const challenges = answer.rawHeaders.filter(([name]) => name === "www-authenticate").map(([, v]) => v);
    expect(challenges).toEqual(expected.challenge === null ? [] : [expected.challenge]);
    if (expected.body === "") {
      expect(answer.body).toBe("");
    } else {
      const contentType = answer.rawHeaders.filter(([name]) => name === "content-type").map(([, v]) => v);
      // AUTH-12: a JSON answer, never a text/event-stream that might carry data.
      expect(contentType).toEqual(["application/json"]);
      expect(JSON.parse(answer.body)).toEqual(expected.body);
    }
    for (const [name, value] of Object.entries(expected.headers ?? {}))
      expect(answer.rawHeaders.filter(([header]) => header === name).map(([, v]) => v)).toEqual([value]);

    // The handler ran only for valid credentials, exactly once.
    expect(toolCalls).toBe(before + (isValid === true ? 1 : 0));
    // AUTH-11: nothing of any token is echoed back, in a header or the body.
    const echoed = [answer.body, ...answer.rawHeaders.map(([, value]) => value)].join("\n");
    for (const material of tokenMaterial()) expect(echoed).not.toContain(material);
  });

  it("zero invalid cases were accepted, and jku/x5u targets were never fetched (JWT-06)", () => {
    expect(invalidAccepted).toBe(0);
    expect(attacker.count()).toBe(0);
  });
});

describe("after the table", () => {
  it("the process is healthy: /healthz and /readyz 200, and a valid token still works", async () => {
    expect((await fetch(new URL("/healthz", running.single!.url))).status).toBe(200);
    expect((await fetch(new URL("/readyz", running.single!.url))).status).toBe(200);
    expect((await fetch(new URL("/healthz", running.multi!.url))).status).toBe(200);
    const before = toolCalls;
    const single = await send("single", bearer(valid()));
    expect(single.status).toBe(200);
    expect(JSON.parse(single.body)).toEqual(accepted().body);
    const multi = await send("multi", bearer(mint(v2({}, TENANT_B))));
    expect(multi.status).toBe(200);
    expect(toolCalls).toBe(before + 2);
  });

  it("ENTRA-07c: a failed key-set refresh is logged as a validator fault; the last good keys keep working", async () => {
    const keysPath = issuer.paths.v2Keys(TENANT_A);
    const before = issuer.count(keysPath);
    issuer.override(keysPath, { status: 500, body: "{}" });
    // Past the key set's 30 s cooldown, so an unknown kid may refetch (and the refetch fails).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    try {
      const unknown = await send("single", bearer(mint(v2(), { header: { kid: "rotated-in" } })));
      expect(unknown.status).toBe(401);
      expect(unknown.rawHeaders.filter(([name]) => name === "www-authenticate").map(([, v]) => v)).toEqual([
        invalidToken(UNKNOWN_KEY).challenge,
      ]);
      expect(issuer.count(keysPath)).toBe(before + 1);
      const calls = toolCalls;
      expect((await send("single", bearer(valid()))).status).toBe(200);
      expect(toolCalls).toBe(calls + 1);
    } finally {
      vi.useRealTimers();
      issuer.override(keysPath, undefined);
    }
    const records = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      records.filter(
        (record) =>
          record["service"] === "single-tenant" &&
          record["level"] === "warn" &&
          record["msg"] === "key set refresh failed; keeping the last good keys" &&
          record["url"] === `${issuer.origin}${keysPath}`,
      ),
    ).toHaveLength(1);
  });

  it("the log capture works: trace lines from the tool and the validator fault (provider down) were logged", () => {
    const records = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.some((record) => record["level"] === "trace" && record["msg"] === "probe ran")).toBe(true);
    const fault = records.find(
      (record) =>
        record["service"] === "outage" &&
        record["level"] === "warn" &&
        record["validator"] === "azureAd" &&
        record["msg"] === "identity provider metadata or keys unavailable; will retry",
    );
    expect(fault).toBeDefined();
    // The careless tool's `token` field was censored, not written.
    const probeLines = records.filter((record) => record["msg"] === "probe ran");
    expect(probeLines.length).toBeGreaterThan(0);
    for (const record of probeLines) expect(record["token"]).toBe("[redacted]");
  });

  it("SEC-04 / AUTH-06: no log line, stdout, stderr or console output holds any token's bytes", () => {
    const written = streamSpies.flatMap((spy) => spy.mock.calls.flat().map(String));
    const everything = [...logs.lines, ...written];
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(sentTokens.size).toBeGreaterThanOrEqual(60);
    const leaks: string[] = [];
    for (const material of tokenMaterial())
      for (const line of everything) if (line.includes(material)) leaks.push(material.slice(0, 24));
    expect(leaks).toEqual([]);
  });
});

/** Every full token sent, and each of its segments long enough to be unique (signatures first of all). */
function tokenMaterial(): string[] {
  const material = new Set<string>();
  for (const sent of sentTokens) {
    if (sent.length >= 16) material.add(sent);
    for (const part of sent.split(".")) if (part.length >= 24) material.add(part);
  }
  return [...material];
}
