/**
 * The load generator, in its own process: the harness sends one job over IPC and gets one result.
 *
 *   autocannon  { url, connections, duration, headers, body, tokens? }  tokens rotate per request
 *   sessions    { url, count, concurrency, headers, tokens, close? }    opens stateful sessions
 *                                                                       (`close`: DELETEs each after use)
 *   burst       { url, count, headers, body, tokens? }                  `count` requests at once
 *
 * It serves jobs until the harness disconnects.
 */
import { Agent, request as httpRequest } from "node:http";
import process from "node:process";
import autocannon from "autocannon";

function summary(result) {
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: result.statusCodeStats,
    duration: result.duration,
  };
}

async function runAutocannon({ url, connections, duration, headers, body, tokens }) {
  const options = { url, method: "POST", connections, duration, headers, body };
  if (tokens !== undefined && tokens.length > 0) {
    // One request template per user: each connection cycles through the pool.
    options.requests = tokens.map((token) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
  }
  return summary(await autocannon(options));
}

/** One POST with a keep-alive agent; resolves `{ status, headers, text }`. */
function post(agent, url, headers, body) {
  return request(agent, url, "POST", headers, body);
}

function request(agent, url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(60_000, () => req.destroy(new Error("timed out")));
    req.end(body);
  });
}

const rpc = (method, params, id) =>
  JSON.stringify({ jsonrpc: "2.0", ...(id !== undefined && { id }), method, params });

/** Opens `count` 2025-era sessions: initialize, notifications/initialized, one tools/call each. */
async function openSessions({ url, count, concurrency, headers, tokens, close = false }) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let opened = 0;
  let sample;
  const failures = [];
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const auth = { ...headers, authorization: `Bearer ${tokens[index % tokens.length]}` };
      try {
        const init = await post(
          agent,
          url,
          auth,
          rpc(
            "initialize",
            {
              protocolVersion: "2025-11-25",
              capabilities: {},
              clientInfo: { name: `bench-${index}`, version: "1" },
            },
            1,
          ),
        );
        const session = init.headers["mcp-session-id"];
        if (init.status !== 200 || typeof session !== "string")
          throw new Error(`initialize answered ${init.status}`);
        const inSession = { ...auth, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" };
        const ack = await post(agent, url, inSession, rpc("notifications/initialized", {}));
        if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}`);
        const call = await post(
          agent,
          url,
          inSession,
          rpc("tools/call", { name: "echo", arguments: { text: "hello" } }, 2),
        );
        if (call.status !== 200 || !call.text.includes('"hello"'))
          throw new Error(`tools/call answered ${call.status}`);
        if (close) {
          const gone = await request(agent, url, "DELETE", inSession, undefined);
          if (gone.status !== 200 && gone.status !== 204) throw new Error(`DELETE answered ${gone.status}`);
        }
        opened++;
        sample ??= session;
      } catch (error) {
        if (failures.length < 5) failures.push(error.message);
        else failures.push("");
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { opened, sample, failed: failures.length, firstFailures: failures.filter(Boolean) };
}

/** `count` requests at once, each on its own connection; resolves when all are answered. */
async function burst({ url, count, headers, body, tokens }) {
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, index) =>
      post(
        agent,
        url,
        tokens === undefined
          ? headers
          : { ...headers, authorization: `Bearer ${tokens[index % tokens.length]}` },
        body,
      ),
    ),
  );
  agent.destroy();
  const ok = results.filter((r) => r.status === "fulfilled" && r.value.status === 200).length;
  const rejected = results.filter((r) => r.status === "rejected");
  return {
    ok,
    failed: count - ok,
    firstFailure: rejected[0]?.reason?.message,
    seconds: (performance.now() - started) / 1000,
  };
}

const JOBS = { autocannon: runAutocannon, sessions: openSessions, burst };

// One job per message until the harness disconnects, so a warm-up and its measurement share a process.
process.on("message", async ({ job }) => {
  try {
    const result = await JOBS[job.kind](job);
    process.send({ type: "result", result });
  } catch (error) {
    process.send({ type: "result", error: error?.stack ?? String(error) });
  }
});
process.on("disconnect", () => process.exit(0));
