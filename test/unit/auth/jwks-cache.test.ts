import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createJwksCache,
  fetchJson,
  isFetchableUrl,
  type JwksCache,
  type JwksCacheOptions,
} from "../../../src/auth/jwks-cache.js";
import { IdentityUnavailableError, InvalidTokenError } from "../../../src/auth/token-validator.js";
import {
  startRequestCounter,
  startTokenIssuer,
  TENANT_A,
  type TokenIssuer,
} from "../../fixtures/token-issuer.js";

let issuer: TokenIssuer;
let keysUrl: string;
const opened: JwksCache[] = [];

beforeAll(async () => {
  issuer = await startTokenIssuer();
  keysUrl = `${issuer.origin}${issuer.paths.v2Keys(TENANT_A)}`;
});
afterAll(() => issuer.close());
beforeEach(() => issuer.resetCounts());
afterEach(() => {
  for (const cache of opened.splice(0)) cache.close();
  vi.useRealTimers();
  issuer.up();
  issuer.override(issuer.paths.v2Keys(TENANT_A), undefined);
});

function cache(options: JwksCacheOptions = {}, url = keysUrl): JwksCache {
  const created = createJwksCache(url, options);
  opened.push(created);
  return created;
}

async function reasonOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof InvalidTokenError ? error.reason : (error as Error).name),
  );
}

describe("which URLs may be fetched (SEC-03, SEC-05)", () => {
  it.each([
    ["https://login.microsoftonline.com/common/discovery/v2.0/keys", true],
    ["https://login.microsoftonline.com/t/discovery/keys?appid=1", true],
    ["http://127.0.0.1:8080/keys", true],
    ["http://localhost/keys", true],
    ["http://[::1]:3000/keys", true],
    ["http://login.microsoftonline.com/keys", false],
    ["http://169.254.169.254/latest", false],
    ["http://10.0.0.1/keys", false],
    ["https://user:pass@idp.example/keys", false],
    ["https://idp.example/keys#frag", false],
    ["file:///etc/passwd", false],
    ["ftp://idp.example/keys", false],
    ["not a url", false],
  ])("%s → %s", (url, allowed) => {
    expect(isFetchableUrl(url)).toBe(allowed);
  });

  it("createJwksCache refuses a non-loopback http URL at construction", () => {
    expect(() => createJwksCache("http://idp.example/keys")).toThrow(TypeError);
  });
});

describe("fetchJson: timeout, size cap, no redirects", () => {
  it("gives up after timeoutMs", async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason as Error)),
      );
    const started = performance.now();
    await expect(fetchJson(keysUrl, { fetch: hanging, timeoutMs: 50 })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("refuses a body over maxBytes, declared or streamed", async () => {
    issuer.override(issuer.paths.v2Keys(TENANT_A), {
      body: JSON.stringify({ keys: [], pad: "x".repeat(600 * 1024) }),
    });
    await expect(fetchJson(keysUrl)).rejects.toThrow(/larger than 524288 bytes/);
    const chunk = new Uint8Array(64 * 1024).fill(32);
    let sent = 0;
    const streaming: typeof fetch = () =>
      Promise.resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              // Bounded: the reader cancels at the cap; the stream would end at 1 MiB regardless.
              if (sent >= 16) {
                controller.close();
                return;
              }
              controller.enqueue(chunk);
              sent++;
            },
          }),
          { status: 200 },
        ),
      );
    await expect(fetchJson(keysUrl, { fetch: streaming, maxBytes: 100_000 })).rejects.toThrow(
      /larger than 100000 bytes/,
    );
    expect(sent).toBeLessThan(16);
  });

  it("does not follow redirects", async () => {
    const elsewhere = await startRequestCounter();
    try {
      issuer.override(issuer.paths.v2Keys(TENANT_A), {
        status: 302,
        body: "",
        headers: { location: `${elsewhere.url}/keys` },
      });
      await expect(fetchJson(keysUrl)).rejects.toThrow();
      expect(elsewhere.count()).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  it("refuses non-200, non-JSON and non-object bodies", async () => {
    const path = issuer.paths.v2Keys(TENANT_A);
    issuer.override(path, { status: 404, body: "{}" });
    await expect(fetchJson(keysUrl)).rejects.toThrow(/HTTP 404/);
    issuer.override(path, { body: "<html>" });
    await expect(fetchJson(keysUrl)).rejects.toThrow(/not JSON/);
    issuer.override(path, { body: "[1]" });
    await expect(fetchJson(keysUrl)).rejects.toThrow(/not a JSON object/);
  });
});

describe("createJwksCache", () => {
  it("loads the key set and exposes the raw JWKs, Entra's `issuer` member included", async () => {
    const keys = cache();
    expect(keys.ready()).toBe(false);
    await keys.load();
    expect(keys.ready()).toBe(true);
    expect(keys.keys()).toHaveLength(issuer.published().length);
    expect(keys.keys()[0]).toMatchObject({
      kid: "k1",
      kty: "RSA",
      issuer: `${issuer.origin}/{tenantid}/v2.0`,
    });
    expect(Object.isFrozen(keys.keys()[0])).toBe(true);
  });

  it("load() with the provider down → IdentityUnavailableError; resolve() too", async () => {
    issuer.down();
    const keys = cache();
    await expect(keys.load()).rejects.toBeInstanceOf(IdentityUnavailableError);
    expect(await reasonOf(keys.resolve({ alg: "RS256", kid: "k1" }))).toBe("IdentityUnavailableError");
  });

  it("a failed or unusable refresh keeps the last good keys (outage tolerance)", async () => {
    const keys = cache();
    await keys.load();
    for (const response of [
      { status: 503, body: "" },
      { body: "garbage" },
      { body: '{"keys":[]}' },
      { body: '{"keys":"no"}' },
    ]) {
      issuer.override(issuer.paths.v2Keys(TENANT_A), response);
      await keys.refresh();
      expect(keys.keys().map((jwk) => jwk.kid)).toContain("k1");
      await expect(keys.resolve({ alg: "RS256", kid: "k1" })).resolves.toBeDefined();
    }
  });

  it("ignores private, symmetric, encryption and unknown keys", async () => {
    const [good] = issuer.published();
    issuer.override(issuer.paths.v2Keys(TENANT_A), {
      body: JSON.stringify({
        keys: [
          { ...good!.jwk, kid: "private", d: "secret" },
          { kty: "oct", kid: "hmac", k: "c2VjcmV0" },
          { ...good!.jwk, kid: "enc", use: "enc" },
          { kty: "XYZ", kid: "odd" },
          "not an object",
          good!.jwk,
        ],
      }),
    });
    const keys = cache();
    await keys.load();
    expect(keys.keys().map((jwk) => jwk.kid)).toEqual([good!.kid]);
  });

  it("refuses a key set with more than maxKeys keys", async () => {
    const [good] = issuer.published();
    issuer.override(issuer.paths.v2Keys(TENANT_A), {
      body: JSON.stringify({ keys: Array.from({ length: 5 }, (_, i) => ({ ...good!.jwk, kid: `k-${i}` })) }),
    });
    await expect(cache({ maxKeys: 4 }).load()).rejects.toBeInstanceOf(IdentityUnavailableError);
  });

  it("concurrent unknown kids share one refresh; none within the cooldown; one after it", async () => {
    const keys = cache();
    await keys.load();
    const path = issuer.paths.v2Keys(TENANT_A);
    // Within the cooldown of the initial load: no refetch at all.
    expect(await reasonOf(keys.resolve({ alg: "RS256", kid: "nope" }))).toBe("key");
    expect(issuer.count(path)).toBe(1);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 30_000);
    const reasons = await Promise.all(
      Array.from({ length: 50 }, (_, i) => reasonOf(keys.resolve({ alg: "RS256", kid: `random-${i}` }))),
    );
    expect(new Set(reasons)).toEqual(new Set(["key"]));
    expect(issuer.count(path)).toBe(2);
    vi.setSystemTime(Date.now() + 29_000);
    await reasonOf(keys.resolve({ alg: "RS256", kid: "still-unknown" }));
    expect(issuer.count(path)).toBe(2);
    vi.setSystemTime(Date.now() + 1_000);
    await reasonOf(keys.resolve({ alg: "RS256", kid: "still-unknown" }));
    expect(issuer.count(path)).toBe(3);
  });

  it("a kid that appears after rotation is found by the one refresh it triggers", async () => {
    const keys = cache({ cooldownMs: 0 });
    await keys.load();
    const added = await issuer.addKey();
    const resolved = await keys.resolve({ alg: "RS256", kid: added.kid });
    expect(resolved.jwk.kid).toBe(added.kid);
    expect(issuer.count(issuer.paths.v2Keys(TENANT_A))).toBe(2);
  });

  it("RFC 8725 §3.1: a key used only with its own alg; without alg, only algorithms of its type", async () => {
    const [good] = issuer.published();
    issuer.override(issuer.paths.v2Keys(TENANT_A), {
      body: JSON.stringify({
        keys: [
          { ...good!.jwk, kid: "bound", alg: "RS256" },
          { ...good!.jwk, kid: "free" },
        ],
      }),
    });
    const keys = cache();
    await keys.load();
    await expect(keys.resolve({ alg: "RS256", kid: "bound" })).resolves.toBeDefined();
    expect(await reasonOf(keys.resolve({ alg: "RS384", kid: "bound" }))).toBe("algorithm");
    await expect(keys.resolve({ alg: "PS256", kid: "free" })).resolves.toBeDefined();
    expect(await reasonOf(keys.resolve({ alg: "ES256", kid: "free" }))).toBe("algorithm");
    expect(await reasonOf(keys.resolve({ alg: "HS256", kid: "free" }))).toBe("algorithm");
    expect(await reasonOf(keys.resolve({ kid: "free" }))).toBe("algorithm");
  });

  it("without a kid, only an unambiguous (single-key) set resolves", async () => {
    const [good] = issuer.published();
    const path = issuer.paths.v2Keys(TENANT_A);
    issuer.override(path, { body: JSON.stringify({ keys: [good!.jwk] }) });
    const single = cache();
    await single.load();
    await expect(single.resolve({ alg: "RS256" })).resolves.toBeDefined();
    issuer.override(path, { body: JSON.stringify({ keys: [good!.jwk, { ...good!.jwk, kid: "other" }] }) });
    const two = cache();
    await two.load();
    expect(await reasonOf(two.resolve({ alg: "RS256" }))).toBe("key");
  });

  it("imports each key once per algorithm and keeps it across refreshes of an unchanged set", async () => {
    const keys = cache();
    await keys.load();
    const first = await keys.resolve({ alg: "RS256", kid: "k1" });
    expect((await keys.resolve({ alg: "RS256", kid: "k1" })).key).toBe(first.key);
    await keys.refresh();
    expect((await keys.resolve({ alg: "RS256", kid: "k1" })).key).toBe(first.key);
  });

  it("a key that cannot be imported is a `key` error, not a crash", async () => {
    issuer.override(issuer.paths.v2Keys(TENANT_A), {
      body: JSON.stringify({ keys: [{ kty: "RSA", kid: "broken", n: "AQAB", e: "AQAB" }] }),
    });
    const keys = cache();
    await keys.load();
    expect(await reasonOf(keys.resolve({ alg: "RS256", kid: "broken" }))).toBe("key");
  });

  it("refreshes in the background every refreshIntervalMs, and stops on close()", async () => {
    const keys = cache({ refreshIntervalMs: 20 });
    await keys.load();
    const path = issuer.paths.v2Keys(TENANT_A);
    for (let i = 0; i < 100 && issuer.count(path) < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(issuer.count(path)).toBeGreaterThanOrEqual(3);
    keys.close();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const after = issuer.count(path);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(issuer.count(path)).toBe(after);
  });
});
