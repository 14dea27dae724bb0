/**
 * The peer: FastMCP (npm `fastmcp`, on the official SDK v1) in its stateless HTTP-streaming mode,
 * with its own `authenticate` hook verifying the same RS256 bearer tokens with `jose` against the
 * bench issuer's key set (issuer, audience, expiry and signature), so it does comparable work.
 * FastMCP has no rate limits, no Host allow-list and no audit log; it speaks only the 2025 era.
 */
import { FastMCP } from "fastmcp";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { z } from "zod";
import { freePort } from "../lib/redis.mjs";
import { announce, serverArgs, toolNames } from "../lib/server-kit.mjs";

const { identity, tools = 1 } = serverArgs();
const keys = createRemoteJWKSet(new URL(identity.jwksUri));

const server = new FastMCP({
  name: "bench-fastmcp",
  version: "1.0.0",
  authenticate: async (request) => {
    const header = request.headers.authorization ?? "";
    if (!header.startsWith("Bearer ")) throw new Response(null, { status: 401, statusText: "Unauthorized" });
    try {
      const { payload } = await jwtVerify(header.slice(7), keys, {
        issuer: identity.issuer,
        audience: identity.clientId,
        algorithms: ["RS256"],
      });
      return { id: `${payload.tid}:${payload.oid}` };
    } catch {
      throw new Response(null, { status: 401, statusText: "Unauthorized" });
    }
  },
});
const EchoInput = z.object({ text: z.string().max(10_000) });
for (const name of toolNames(tools)) {
  server.addTool({
    name,
    description: `Echo the text back (${name})`,
    parameters: EchoInput,
    execute: async ({ text }) => text,
  });
}

const port = await freePort();
await server.start({ transportType: "httpStream", httpStream: { port, host: "127.0.0.1", stateless: true } });
announce(`http://127.0.0.1:${port}/mcp`, () => server.stop());
