/** Reads a V8 `.cpuprofile` and ranks functions by self time. */
import { readFileSync } from "node:fs";

/** The `limit` functions with the most self time: `{ name, where, selfMs, share }`. */
export function topSelfTime(file, limit = 25) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map();
  const { samples, timeDeltas } = profile;
  for (let index = 0; index < samples.length; index++) {
    const id = samples[index];
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (timeDeltas[index] ?? 0));
  }
  const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);
  const byFunction = new Map();
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = url === "" ? "" : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${functionName || "(anonymous)"}\u0000${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, micros]) => {
      const [name, where] = key.split("\u0000");
      return { name, where, selfMs: micros / 1000, share: micros / total };
    });
}

/** The share of self time by area: node_modules package, Paved's dist, Node internals, other. */
export function selfTimeByArea(file) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const areas = new Map();
  let total = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    const node = byId.get(profile.samples[index]);
    const micros = profile.timeDeltas[index] ?? 0;
    total += micros;
    const area = areaOf(node.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + micros);
  }
  return [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([area, micros]) => ({ area, share: micros / total }));
}

function areaOf({ url, functionName }) {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1];
  if (url.includes("/dist/")) return "paved (dist)";
  if (url.startsWith("node:")) return "node internals";
  return "other";
}

function shorten(url) {
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) return url.slice(modules + "node_modules/".length);
  const dist = url.indexOf("/dist/");
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, "");
}
