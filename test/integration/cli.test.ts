import { afterEach, describe, expect, it } from "vitest";
import { runCli, urlOf, type Spawned } from "../fixtures/cli.js";
import { MCP_HEADERS, rpc } from "../fixtures/hosts.js";

const running: Spawned[] = [];
afterEach(() => {
  for (const spawned of running.splice(0)) spawned.child.kill("SIGKILL");
});

function track(spawned: Spawned): Spawned {
  running.push(spawned);
  return spawned;
}

describe("paved CLI", () => {
  it("graceful shutdown: a slow call in flight when SIGTERM arrives completes with its result", async () => {
    const cli = track(runCli(["dev", "test/fixtures/entries/slow.mjs"], { PORT: "0" }));
    const url = await urlOf(cli);
    const call = fetch(url, {
      method: "POST",
      headers: MCP_HEADERS,
      body: rpc("tools/call", { name: "slow", arguments: { ms: 1500 } }),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    cli.child.kill("SIGTERM");
    const response = await call;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      result: { content: [{ type: "text", text: "done after 1500 ms" }] },
    });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain("shutting down");
    // and it stopped accepting connections
    await expect(fetch(url, { method: "POST", headers: MCP_HEADERS, body: rpc("ping") })).rejects.toThrow();
  });

  it("paved start refuses a host without authentication or https resourceHost", async () => {
    const cli = runCli(["start", "test/fixtures/entries/slow.mjs"], { PORT: "0" });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain("paved start refuses to serve this host");
    expect(cli.stderr()).toContain("authentication is disabled (insecureNoAuth)");
    expect(cli.stderr()).toContain("server.resourceHost is not set");
    expect(cli.stderr()).toContain("[ERR_UNSAFE_START]");
  });

  it("paved start serves a production host (default export may be a function) on every interface", async () => {
    const cli = track(runCli(["start", "test/fixtures/entries/production.mjs"], { PORT: "0" }));
    const url = await urlOf(cli);
    expect(cli.stdout()).toContain("serving prod 2.0.0");
    const unauthenticated = await fetch(url, {
      method: "POST",
      headers: { ...MCP_HEADERS, host: "mcp.contoso.com" },
      body: rpc("ping"),
    });
    expect(unauthenticated.status).toBe(401);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("reports a missing entry, a bad default export and bad configuration with a clear message", async () => {
    const missing = runCli(["dev", "nope/server.js"]);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toMatch(
      /The entry module .*nope\/server\.js does not exist \[ERR_ENTRY_INVALID\]/,
    );

    const notHost = runCli(["dev", "test/fixtures/entries/not-a-host.mjs"]);
    expect(await notHost.exited).toBe(1);
    expect(notHost.stderr()).toContain("must be a host made by createMcpHost");

    const badConfig = runCli(["dev", "test/fixtures/entries/slow.mjs"], {
      PAVED_SERVER__MAXBODYBYTES: "lots",
    });
    expect(await badConfig.exited).toBe(1);
    expect(badConfig.stderr()).toContain("server.maxBodyBytes (from env PAVED_SERVER__MAXBODYBYTES)");
  });

  it("prints usage, version, and refuses unknown commands", async () => {
    const help = runCli(["help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain("Usage: paved <command> [entry]");
    const version = runCli(["version"]);
    expect(await version.exited).toBe(0);
    expect(version.stdout().trim()).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = runCli(["deploy"]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain('unknown command "deploy"');
  });
});
