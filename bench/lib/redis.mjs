/**
 * A throw-away redis-server on a free loopback port (no persistence), for the benches. Shared by
 * `bench/rate-limit.mjs` and `bench/run.mjs`.
 */
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on loopback (the OS picks one, we release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether `redis-server` is on PATH. */
export function hasRedis() {
  return spawnSync("sh", ["-c", "command -v redis-server"], { stdio: "ignore" }).status === 0;
}

/** Starts redis-server; resolves `{ url, pid, stop() }` once it accepts connections. */
export async function startRedis() {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("redis-server did not start within 10 s"));
    }, 10_000);
    const onData = (chunk) => {
      out += chunk;
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code})`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
