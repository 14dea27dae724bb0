/**
 * A loopback Entra-shaped identity provider for the benches: v2 discovery and key set for any
 * tenant, one RS256 key, and `mint` for Entra v2 user access tokens. (The test suite's richer
 * fixture, test/fixtures/token-issuer.ts, is TypeScript; the benches run on plain Node.)
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:http";

export const TENANT = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
export const CLIENT_ID = "cccccccc-3333-4333-8333-cccccccccccc";
const CLIENT_APP = "aebc6443-996d-45c2-90f0-388ff96faa56";

const b64 = (value) => Buffer.from(value).toString("base64url");

/** Starts the issuer; resolves `{ origin, instance, v2Issuer, jwksUri, mintUser(i), close() }`. */
export async function startIssuer() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "bench-k1";
  let origin = "";
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const send = (status, body) => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    let match;
    if ((match = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path)) !== null) {
      return send(200, {
        issuer: `${origin}/${match[1]}/v2.0`,
        jwks_uri: `${origin}/${match[1]}/discovery/v2.0/keys`,
        token_endpoint: `${origin}/${match[1]}/oauth2/v2.0/token`,
      });
    }
    if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(path)) {
      const jwk = publicKey.export({ format: "jwk" });
      return send(200, {
        keys: [{ ...jwk, kid, use: "sig", alg: "RS256", issuer: `${origin}/{tenantid}/v2.0` }],
      });
    }
    return send(404, { error: "not_found" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;

  /** An Entra v2 delegated (user) access token for user `index` of the pool, valid for an hour. */
  function mintUser(index) {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: CLIENT_ID,
      iss: `${origin}/${TENANT}/v2.0`,
      iat: now - 10,
      nbf: now - 10,
      exp: now + 3600,
      ver: "2.0",
      tid: TENANT,
      oid: `dddddddd-4444-4444-8444-${String(index).padStart(12, "0")}`,
      sub: `bench-subject-${index}`,
      azp: CLIENT_APP,
      azpacr: "0",
      scp: "tools.read tools.write",
      name: `Bench User ${index}`,
      preferred_username: `user${index}@contoso.example`,
      uti: `bench-uti-${index}`,
    };
    const input = `${b64(JSON.stringify({ alg: "RS256", kid, typ: "JWT" }))}.${b64(JSON.stringify(claims))}`;
    return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
  }

  return {
    origin,
    instance: `${origin}/`,
    v2Issuer: `${origin}/${TENANT}/v2.0`,
    jwksUri: `${origin}/${TENANT}/discovery/v2.0/keys`,
    mintUser,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
