import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, createMcpHost, createMemorySessionRegistry } from "../../../src/index.js";
import { signForwarded, verifyForwarded } from "../../../src/sessions/forwarded-header.js";
import { deriveReplicaUrl } from "../../../src/sessions/setup.js";
import { createKeyRing } from "../../../src/state/key-ring.js";
import { namedTokens } from "../../fixtures/principals.js";

describe("stateful mode across replicas: start-up rules", () => {
  it("refuses a shared session registry without server.stateKeys, naming the key", () => {
    const make = (config: Record<string, unknown>) => () =>
      createMcpHost({
        config: { ...config, telemetry: { logLevel: "silent" } },
        server: { name: "s", version: "1" },
        tokenValidator: namedTokens(),
        sessionRegistry: createMemorySessionRegistry(),
      });
    expect(make({ server: { stateless: false } })).toThrow(ConfigError);
    expect(make({ server: { stateless: false } })).toThrow(/server\.stateKeys/);
    // With keys, or stateless, or a private registry: fine.
    const keys = [randomBytes(32).toString("base64")];
    for (const config of [
      { server: { stateless: false, stateKeys: keys } },
      { server: { stateless: true } },
    ]) {
      void make(config)().close();
    }
    void createMcpHost({
      config: { server: { stateless: false }, telemetry: { logLevel: "silent" } },
      server: { name: "s", version: "1" },
      tokenValidator: namedTokens(),
    }).close();
  });

  it("refuses store.redis in stateful mode without server.stateKeys", () => {
    expect(() =>
      createMcpHost({
        config: {
          server: { stateless: false },
          store: { redis: "redis://127.0.0.1:1" },
          telemetry: { logLevel: "silent" },
        },
        server: { name: "s", version: "1" },
        tokenValidator: namedTokens(),
      }),
    ).toThrow(/server\.stateKeys/);
  });

  it("derives the replica URL from the listening address", () => {
    expect(deriveReplicaUrl({ address: "10.1.2.3", port: 8080, family: "IPv4" })).toBe(
      "http://10.1.2.3:8080",
    );
    expect(deriveReplicaUrl({ address: "fd00::7", port: 8080, family: "IPv6" })).toBe(
      "http://[fd00::7]:8080",
    );
    expect(deriveReplicaUrl({ address: "0.0.0.0", port: 9000, family: "IPv4" })).toMatch(
      /^http:\/\/\d{1,3}(\.\d{1,3}){3}:9000$/,
    );
  });
});

describe("the forwarding mark", () => {
  const ring = createKeyRing([randomBytes(32).toString("base64")]);
  const keys = ring.keys("forwarding");
  const request = { method: "POST", path: "/mcp", sessionId: "s".repeat(32) };

  it("verifies for exactly the request it was made for, within a minute", () => {
    const now = Date.now();
    const mark = signForwarded(keys, request, now);
    expect(mark).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyForwarded(keys, mark, request, now + 30_000)).toBe(true);
    expect(verifyForwarded(keys, mark, request, now + 61_000)).toBe(false);
    expect(verifyForwarded(keys, mark, { ...request, method: "DELETE" }, now)).toBe(false);
    expect(verifyForwarded(keys, mark, { ...request, sessionId: "t".repeat(32) }, now)).toBe(false);
    expect(verifyForwarded(keys, mark, { ...request, path: "/other" }, now)).toBe(false);
  });

  it("needs the ring's keys: another ring, the request-state keys or garbage do not verify", () => {
    const mark = signForwarded(keys, request);
    expect(verifyForwarded(createKeyRing(undefined).keys("forwarding"), mark, request)).toBe(false);
    expect(verifyForwarded(keys, signForwarded(ring.keys("request-state"), request), request)).toBe(false);
    for (const bad of ["", "v1", "v1.1.x", `v2${mark.slice(2)}`, `${mark}=`])
      expect(verifyForwarded(keys, bad, request)).toBe(false);
  });

  it("verifies with an older key of the ring during a rotation", () => {
    const old = [randomBytes(32).toString("base64")];
    const rotated = createKeyRing([randomBytes(32).toString("base64"), ...old]).keys("forwarding");
    const mark = signForwarded(createKeyRing(old).keys("forwarding"), request);
    expect(verifyForwarded(rotated, mark, request)).toBe(true);
  });
});
