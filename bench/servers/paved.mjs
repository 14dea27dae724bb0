/**
 * Paved with everything on: Entra RS256 bearer tokens validated against the bench issuer's key set
 * (results cached per token, as in production), the hardened edge (Host allow-list, Origin check,
 * media types, body limit), pre-auth limits per client address, per-user and per-tenant limits
 * (high enough never to reject; in memory, or in Redis with `redis`), scopes checked on every tool,
 * telemetry at its defaults (audit log on: one `tool.invoked` line per call, to this process's
 * standard output, which the harness discards; no OpenTelemetry SDK registered, so the API is a
 * no-op) and the security headers on every answer.
 */
import { z } from "zod";
import { createMcpHost, defineTool } from "../../dist/index.js";
import { serve } from "../../dist/node/index.js";
import { announce, serverArgs, toolNames } from "../lib/server-kit.mjs";

const { identity, redis, tools = 1, slowMs = 0, stateful = false, idleTimeoutMs = 2_000 } = serverArgs();

const definitions = toolNames(tools).map((name) =>
  defineTool({
    name,
    description: `Echo the text back (${name})`,
    input: { text: z.string().max(10_000) },
    scopes: ["tools.read"],
    handler: ({ text }) => text,
  }),
);
if (slowMs > 0) {
  definitions.push(
    defineTool({
      name: "slow",
      description: "Waits, then answers",
      scopes: ["tools.read"],
      handler: () => new Promise((resolve) => setTimeout(() => resolve("done"), slowMs)),
    }),
  );
}

const host = createMcpHost({
  config: {
    azureAd: { instance: identity.instance, tenantId: identity.tenantId, clientId: identity.clientId },
    server: {
      allowedHosts: ["127.0.0.1"],
      stateless: !stateful,
      maxRequestsPerMinutePerUser: 1_000_000,
      maxRequestsPerMinutePerTenant: 100_000_000,
      maxRequestsPerMinutePerClientAddress: 100_000_000,
      // The in-flight memory probe holds requests open for `slowMs`.
      requestDeadlineMs: Math.max(120_000, slowMs * 2),
      ...(stateful && { sessions: { idleTimeoutMs, maxPerUser: 1_000, maxTotal: 100_000 } }),
    },
    ...(redis !== undefined && { store: { redis, keyPrefix: "bench:" } }),
  },
  server: { name: "bench-paved", version: "1.0.0" },
  tools: definitions,
});

const running = await serve(host, { port: 0, host: "127.0.0.1", handleSignals: false });
announce(running.url.href, () => running.close());
