import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { jwks, openIdConfiguration, openIdConfigurationV1, parseTenant } from "../dev/discovery.js";
import { createSigner, type TokenSigner } from "../dev/tokens.js";

/**
 * The authority test tokens come from. `.test` is reserved (RFC 6761 §6.2): the name never resolves,
 * and nothing is ever sent to it, because its documents are served in-process by {@link authorityFetch}.
 */
export const TEST_AUTHORITY = "https://login.paved.test";

/** One RSA key per process, made on first use and never written anywhere. */
let signer: Promise<TokenSigner> | undefined;

/** The in-memory signing key every test host trusts. */
export function testSigner(): Promise<TokenSigner> {
  signer ??= (async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", {
      modulusLength: 2048,
      extractable: true,
    });
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    return createSigner({
      kid,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" },
    });
  })();
  return signer;
}

function notFound(url: URL): Response {
  return Response.json({ error: "not_found", path: url.pathname }, { status: 404 });
}

/**
 * A `fetch` that answers the test authority's discovery documents and key sets (Entra's shapes, the
 * same documents the development identity provider serves) from memory, so the real Entra validator
 * runs with no socket. Any other URL is refused: tests stay off the network.
 */
export const authorityFetch: typeof globalThis.fetch = async (input) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.origin !== TEST_AUTHORITY) {
    throw new TypeError(
      `paved-mcp/testing reaches no network: ${url.origin} is not the in-process test authority`,
    );
  }
  const [first = "", ...rest] = url.pathname.split("/").slice(1);
  const tenant = parseTenant(first);
  if (tenant === undefined) return notFound(url);
  switch (rest.join("/")) {
    case "v2.0/.well-known/openid-configuration":
      return Response.json(openIdConfiguration(TEST_AUTHORITY, tenant));
    case ".well-known/openid-configuration":
      return Response.json(openIdConfigurationV1(TEST_AUTHORITY, tenant));
    case "discovery/v2.0/keys":
    case "discovery/keys":
      return Response.json(jwks(await testSigner(), TEST_AUTHORITY, tenant));
    default:
      return notFound(url);
  }
};
