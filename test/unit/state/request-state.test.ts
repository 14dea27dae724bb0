import { randomBytes } from "node:crypto";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  acceptedContent,
  createMcpHost,
  defineTool,
  inputRequired,
  type McpHost,
} from "../../../src/index.js";
import { createKeyRing, decodeKey } from "../../../src/state/key-ring.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import { captureLogs, MCP_HEADERS } from "../../fixtures/hosts.js";
import { namedTokens } from "../../fixtures/principals.js";

/**
 * 2026-07-28 multi-round-trip requests: the first round returns `inputRequired` with state sealed by
 * the shared key ring; the retry may land on any replica holding the same keys.
 */

const key = (): string => randomBytes(32).toString("base64");
const K1 = key();
const K2 = key();

/** Asks for a confirmation, then transfers; says which host sealed the state and which answered. */
function transfer(hostName: string) {
  return defineTool({
    name: "transfer",
    // Reads the answers through ctx.mcp (round 2).
    sdkContext: true,
    description: "Transfers an amount after the user confirms",
    input: { amount: z.number().int().min(1) },
    handler: async ({ amount }, ctx) => {
      const state = ctx.state<{ amount: number; sealedBy: string }>();
      if (state === undefined) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: `Transfer ${amount}?`,
              requestedSchema: {
                type: "object",
                properties: { ok: { type: "boolean" } },
                required: ["ok"],
              },
            }),
          },
          requestState: await ctx.sealState({ amount, sealedBy: hostName }),
        });
      }
      const answer = acceptedContent<{ ok: boolean }>(ctx.mcp.mcpReq.inputResponses, "confirm");
      const verb = answer?.ok === true ? "transferred" : "cancelled";
      return `${verb} ${state.amount}, sealed by ${state.sealedBy}, answered by ${hostName}`;
    },
  });
}

const hosts: McpHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()));
});

function hostWith(name: string, stateKeys: readonly string[] | undefined) {
  const logs = captureLogs();
  const host = createMcpHost({
    config: { server: { ...(stateKeys !== undefined && { stateKeys: [...stateKeys] }) } },
    server: { name, version: "1.0.0" },
    tools: [transfer(name)],
    tokenValidator: namedTokens(),
    logger: createLogger({ level: "debug", serviceName: name, destination: logs.stream }),
  });
  hosts.push(host);
  return { host, logs: logs.lines };
}

/** A modern-era client whose requests alternate between the hosts, as behind a load balancer. */
async function modernClient(targets: readonly McpHost[]): Promise<{ client: Client; served: string[] }> {
  const served: string[] = [];
  let next = 0;
  const client = new Client(
    { name: "mrtr", version: "1" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } }, capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler("elicitation/create", () => ({ action: "accept", content: { ok: true } }));
  await client.connect(
    new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
      requestInit: { headers: { authorization: "Bearer user.alice" } },
      fetch: (input, init) => {
        const host = targets[next++ % targets.length]!;
        served.push(host.info.name);
        return host.fetch(new Request(input, init));
      },
    }),
  );
  return { client, served };
}

const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
};

async function callTransfer(
  host: McpHost,
  token: string,
  retry?: { requestState: string; ok: boolean },
): Promise<Record<string, unknown>> {
  const response = await host.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        authorization: `Bearer ${token}`,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "transfer",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "transfer",
          arguments: { amount: 5 },
          ...(retry !== undefined && {
            requestState: retry.requestState,
            inputResponses: { confirm: { action: "accept", content: { ok: retry.ok } } },
          }),
          _meta: ENVELOPE,
        },
      }),
    }),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function firstRound(host: McpHost, token = "user.alice"): Promise<string> {
  const first = await callTransfer(host, token);
  const result = first["result"] as { resultType: string; requestState: string };
  expect(result.resultType).toBe("input_required");
  expect(result.requestState).toMatch(/^v1\./);
  return result.requestState;
}

const REFUSED = {
  error: {
    code: -32602,
    message: "Invalid or expired requestState",
    data: { reason: "invalid_request_state" },
  },
};

describe("sealed requestState across replicas (2026-07-28 multi-round-trip)", () => {
  it("an elicitation round trip whose second leg lands on another host sharing the key ring", async () => {
    const a = hostWith("replica-a", [K1]).host;
    const b = hostWith("replica-b", [K1]).host;
    const { client, served } = await modernClient([a, b]);
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    const result = await client.callTool({ name: "transfer", arguments: { amount: 42 } });
    const text = (result.content as { text: string }[])[0]?.text ?? "";
    const [, sealedBy, answeredBy] = /sealed by (\S+), answered by (\S+)$/.exec(text) ?? [];
    expect(text).toMatch(/^transferred 42,/);
    expect(sealedBy).toBeDefined();
    expect(answeredBy).not.toBe(sealedBy);
    expect(new Set(served)).toEqual(new Set(["replica-a", "replica-b"]));
    await client.close();
  });

  it("rotation with overlap: a host with [new, old] accepts state sealed with old; one with [new] does not", async () => {
    const old = hostWith("old", [K1]).host;
    const rotating = hostWith("rotating", [K2, K1]).host;
    const rotated = hostWith("rotated", [K2]).host;
    const state = await firstRound(old);
    const accepted = await callTransfer(rotating, "user.alice", { requestState: state, ok: true });
    expect(JSON.stringify(accepted)).toContain("transferred 5, sealed by old, answered by rotating");
    expect(await callTransfer(rotated, "user.alice", { requestState: state, ok: true })).toMatchObject(
      REFUSED,
    );
    // And state the rotating host seals (with the new key) is read by the rotated one.
    const fresh = await firstRound(rotating);
    const onRotated = await callTransfer(rotated, "user.alice", { requestState: fresh, ok: false });
    expect(JSON.stringify(onRotated)).toContain("cancelled 5, sealed by rotating");
  });

  it("tampered, foreign and unkeyed state get a clear JSON-RPC error, and the host keeps serving", async () => {
    const { host: a, logs } = hostWith("a", [K1]);
    const stranger = hostWith("stranger", [K2]).host;
    const single = hostWith("single", undefined).host;
    const state = await firstRound(a);

    const [version, body, mac] = state.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString()) as { p: { amount: number } };
    claims.p.amount = 1_000_000;
    const forged = `${version}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${mac}`;
    const flipped = `${version}.${body}.${mac.slice(0, -2)}${mac.endsWith("AA") ? "BB" : "AA"}`;
    for (const bad of [forged, flipped, "v1.garbage", "not-state", ""]) {
      expect(await callTransfer(a, "user.alice", { requestState: bad, ok: true })).toMatchObject(REFUSED);
    }
    // Sealed for alice, echoed by bob: bound to the caller.
    expect(await callTransfer(a, "user.bob", { requestState: state, ok: true })).toMatchObject(REFUSED);
    // Other keys, or none configured (a random per-process key): not this ring's state.
    expect(await callTransfer(stranger, "user.alice", { requestState: state, ok: true })).toMatchObject(
      REFUSED,
    );
    expect(await callTransfer(single, "user.alice", { requestState: state, ok: true })).toMatchObject(
      REFUSED,
    );
    // Still serving, and the log names no payload.
    expect(JSON.stringify(await callTransfer(a, "user.alice", { requestState: state, ok: true }))).toContain(
      "transferred 5",
    );
    expect(logs.join("")).not.toContain("1000000");
  });
});

describe("the key ring", () => {
  it("decodes base64 and base64url keys of at least 32 bytes, nothing else", () => {
    const bytes = randomBytes(40);
    expect(decodeKey(bytes.toString("base64"))).toEqual(new Uint8Array(bytes));
    expect(decodeKey(bytes.toString("base64url"))).toEqual(new Uint8Array(bytes));
    expect(decodeKey(randomBytes(31).toString("base64"))).toBeUndefined();
    expect(decodeKey("not base64!")).toBeUndefined();
    expect(decodeKey("")).toBeUndefined();
  });

  it("derives one independent key per purpose, the same on every replica", () => {
    const one = createKeyRing([K2, K1]);
    const two = createKeyRing([K2, K1]);
    expect(one.ephemeral).toBe(false);
    expect(one.keys("request-state")).toEqual(two.keys("request-state"));
    expect(one.keys("request-state")).toHaveLength(2);
    expect(one.keys("forwarding")[0]).not.toEqual(one.keys("request-state")[0]);
    expect(Buffer.from(one.keys("forwarding")[0]!)).not.toEqual(decodeKey(K2));
  });

  it("holds one random key per process when none is configured", () => {
    const one = createKeyRing(undefined);
    expect(one.ephemeral).toBe(true);
    expect(one.keys("request-state")[0]).not.toEqual(createKeyRing(undefined).keys("request-state")[0]);
  });
});
