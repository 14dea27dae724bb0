import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The example's downstream API: what a tool calls on behalf of the user. */
export interface ProfileApi {
  /** `http://127.0.0.1:<port>/api/` (plain http is accepted for loopback only). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A tiny "profile service" on loopback. It reads the claims of the bearer token it is given to show
 * that it received a token issued for it (`aud`) on behalf of the user (`oid`, `scp`), not the token
 * the MCP client sent to the server. A real API validates that token (signature, issuer, audience),
 * for example with a Paved host or any JWT library; this one only decodes it, to stay small.
 */
export async function startProfileApi(port: number): Promise<ProfileApi> {
  const server: Server = createServer((request, response) => {
    request.resume();
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (token === undefined) {
      response.writeHead(401, { "www-authenticate": "Bearer" }).end();
      return;
    }
    if (request.url !== "/api/me") {
      response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
      return;
    }
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
        string,
        unknown
      >;
    } catch {
      response.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"' }).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        name: claims["name"] ?? null,
        objectId: claims["oid"] ?? null,
        tokenAudience: claims["aud"] ?? null,
        tokenScopes: claims["scp"] ?? null,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  // The MCP server's shutdown decides when the process ends; this one must not hold it open.
  server.unref();
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/api/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
