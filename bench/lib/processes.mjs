/**
 * Child processes of the harness: each server in its own process (bench/servers/*.mjs), the load
 * generator in another (bench/lib/load-worker.mjs), so the harness measures without serving or
 * loading. Server memory is read from /proc/<pid>/status; CPU time is reported by the server.
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SERVERS = fileURLToPath(new URL("../servers/", import.meta.url));
const LOAD_WORKER = fileURLToPath(new URL("./load-worker.mjs", import.meta.url));

/** `VmRSS` and `VmHWM` of a process in bytes (Linux), or `undefined` once it is gone. */
export function procMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { rss: field("VmRSS"), hwm: field("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Waits for the next IPC message of `type` from `child`, failing if it exits first or after `ms`. */
function nextMessage(child, type, ms, what) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${what} exited (${signal ?? code}) before answering "${type}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} did not answer "${type}" within ${ms / 1000} s`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/**
 * Starts `bench/servers/<file>` with `args` (JSON) and resolves once it listens. `profileDir`
 * adds `--cpu-prof` (the profile is written when it exits). Its standard output (the audit log) is
 * discarded; standard error is kept for the failure message.
 */
export async function startServer(name, file, args, options = {}) {
  const execArgv = ["--expose-gc"];
  if (options.profileDir !== undefined)
    execArgv.push(
      "--cpu-prof",
      "--cpu-prof-dir",
      options.profileDir,
      "--cpu-prof-name",
      `${name}.cpuprofile`,
    );
  const child = fork(`${SERVERS}${file}`, [JSON.stringify(args)], {
    execArgv,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  let ready;
  try {
    ready = await nextMessage(child, "ready", 30_000, `server ${name}`);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${stderr}`, { cause: error });
  }
  const ask = (type, answer, extra = {}, ms = 30_000) => {
    const pending = nextMessage(child, answer, ms, `server ${name}`);
    child.send({ type, ...extra });
    return pending;
  };
  return {
    name,
    url: ready.url,
    pid: child.pid,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    memory: () => procMemory(child.pid),
    mark: () => ask("mark", "marked"),
    report: () => ask("report", "report"),
    /** Full collections, then `settleMs` for freed pages to go back to the system, then one more. */
    gc: (settleMs = 1_000) => ask("gc", "gc", { settleMs }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A load-generator process; `run(job, timeoutMs)` resolves with the job's result. */
export function startLoad() {
  const child = fork(LOAD_WORKER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return {
    async run(job, timeoutMs) {
      const pending = nextMessage(child, "result", timeoutMs, "load generator");
      child.send({ type: "job", job });
      const { result, error } = await pending;
      if (error !== undefined) throw new Error(`load generator: ${error}`);
      return result;
    },
    stop() {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Runs one job in a fresh load-generator process and resolves with its result. */
export async function runLoad(job, timeoutMs) {
  const load = startLoad();
  try {
    return await load.run(job, timeoutMs);
  } finally {
    load.stop();
  }
}

/**
 * Samples a process's RSS every `everyMs` while `work` runs; resolves `{ value, peakRss }`
 * (`peakRss`: the highest sample, a lower bound of the true peak).
 */
export async function samplingRss(pid, work, everyMs = 50) {
  let peakRss = procMemory(pid)?.rss ?? 0;
  const timer = setInterval(() => {
    const rss = procMemory(pid)?.rss;
    if (rss !== undefined && rss > peakRss) peakRss = rss;
  }, everyMs);
  try {
    const value = await work();
    return { value, peakRss };
  } finally {
    clearInterval(timer);
  }
}
