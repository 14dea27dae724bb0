import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAuthorizeEndpoint } from "./authorize.js";
import { createClientRegistry } from "./clients.js";
import { jwks, openIdConfiguration, openIdConfigurationV1, parseTenant } from "./discovery.js";
import { createGrantStore } from "./grants.js";
import { parseForm, readBody, sendJson, sendOAuthError, sendPreflight, sendStatus } from "./http.js";
import { createMinter, type MintTokenOptions } from "./mint.js";
import { DevOAuthError } from "./oauth-error.js";
import { checkProviderOptions, type DevIdentityProviderOptions } from "./options.js";
import { handleRegistration } from "./registration.js";
import { openDevState } from "./state.js";
import { handleTokenRequest } from "./token-endpoint.js";
import { createSigner, issuerOf } from "./tokens.js";
import { refuseInProduction } from "./refuse-in-production.js";

/** The `azureAd` configuration section that points a host at a development identity provider. */
export interface DevAzureAdConfig {
  readonly instance: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly applicationIdUri: string;
  /** `[2]`, or `[1]` for a provider that issues v1 tokens. */
  readonly tokenVersions: (1 | 2)[];
}

/** A running development identity provider. */
export interface DevIdentityProvider {
  /** The v2.0 issuer: `http://127.0.0.1:<port>/<tenantId>/v2.0`. */
  readonly issuer: string;
  /** The authority host, what `azureAd.instance` takes: `http://127.0.0.1:<port>/`. */
  readonly instance: string;
  /** The origin it listens on: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly tenantId: string;
  /** The API app's client ID: `aud` of v2 access tokens. */
  readonly clientId: string;
  readonly applicationIdUri: string;
  /** The pre-registered confidential client for `client_credentials` (its secret persists in the state directory). */
  readonly confidentialClient: { readonly clientId: string; readonly clientSecret: string };
  /** Mints an access token directly from the signing key (no HTTP). */
  mintToken(options?: MintTokenOptions): Promise<string>;
  /**
   * Exposes more delegated scopes and app roles (short names), e.g. those the host's tools declare,
   * so that tokens minted without explicit scopes or roles carry them. Persisted for `paved token`.
   */
  expose(scopes: readonly string[], roles: readonly string[]): Promise<void>;
  /** The `azureAd` configuration a host needs to accept this provider's tokens. */
  azureAdConfig(): DevAzureAdConfig;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an Entra-shaped OAuth 2.1 authorization server on loopback that mints tokens exactly like
 * Entra ID (v2, or v1 on request), so the production validation code runs unchanged in development:
 * discovery (OIDC and RFC 8414 paths), JWKS, client credentials, authorization code + PKCE with a
 * consent page, rotating refresh tokens, dynamic registration and client ID metadata documents.
 * Refuses to start with `NODE_ENV=production`.
 *
 * One deliberate difference: Entra's v1 issuer is `https://sts.windows.net/<tid>/`, a host loopback
 * cannot imitate, so v1 tokens carry `http://127.0.0.1:<port>/<tid>/`. The v1 discovery document
 * (`/<tid>/.well-known/openid-configuration`) names it; validators must read it from there.
 *
 * @example
 * const idp = await createDevIdentityProvider({ scopes: ["Weather.Read"] });
 * const host = createMcpHost({ config: parseConfig({ azureAd: idp.azureAdConfig() }), ... });
 * const token = await idp.mintToken({ user: "alice" });
 * await idp.close();
 */
export async function createDevIdentityProvider(
  options: DevIdentityProviderOptions = {},
): Promise<DevIdentityProvider> {
  refuseInProduction("The development identity provider");
  const settings = checkProviderOptions(options);
  const store = await openDevState(settings.stateDir);
  const signer = await createSigner(await store.signingKey());
  const clients = await createClientRegistry(store);
  const grants = createGrantStore();
  const { tenantId, users, accessTokenVersion } = settings;
  // Mutable so `expose()` can add what the host declares after it has been imported.
  const app: { -readonly [K in keyof typeof settings.app]: (typeof settings.app)[K] } = { ...settings.app };
  // The request listener is attached only once the port (and so every URL) is known; no request
  // can be read before that, because nothing awaits between listening and attaching it.
  const server = createServer({
    headersTimeout: 10_000,
    requestTimeout: 15_000,
    keepAliveTimeout: 5_000,
    maxHeaderSize: 16 * 1024,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${settings.host}:${port}`;
  const authorize = createAuthorizeEndpoint({ baseUrl, app, tenantId, users, clients, grants });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", baseUrl);
    const method = req.method ?? "GET";
    // DNS-rebinding guard: a page on another name that resolves to 127.0.0.1 must not reach the consent form.
    if (req.headers.host !== `127.0.0.1:${port}` && req.headers.host !== `localhost:${port}`)
      return sendStatus(res, 403, "Forbidden: unexpected Host header");
    if (method === "OPTIONS") return sendPreflight(res);
    const segments = url.pathname.split("/").slice(1);
    const get = (body: () => unknown) =>
      method === "GET" || method === "HEAD"
        ? sendJson(res, 200, body())
        : sendStatus(res, 405, "Method Not Allowed", { allow: "GET" });

    const [first, second, third, fourth] = segments;
    if (
      segments.length === 4 &&
      first === ".well-known" &&
      (second === "oauth-authorization-server" || second === "openid-configuration") &&
      fourth === "v2.0"
    ) {
      const tenant = parseTenant(third ?? "");
      if (tenant !== undefined) return get(() => openIdConfiguration(baseUrl, tenant));
    }
    if (segments.length === 1 && first === "register") {
      if (method !== "POST") return sendStatus(res, 405, "Method Not Allowed", { allow: "POST" });
      const body = await readBody(req);
      if (body === undefined) return sendStatus(res, 413, "Payload Too Large");
      return sendJson(res, 201, await handleRegistration(clients, req, body));
    }
    const tenant = parseTenant(first ?? "");
    const rest = segments.slice(1).join("/");
    if (tenant === undefined) return sendStatus(res, 404, "Not Found");
    switch (rest) {
      case "v2.0/.well-known/openid-configuration":
        return get(() => openIdConfiguration(baseUrl, tenant));
      case ".well-known/openid-configuration":
        return get(() => openIdConfigurationV1(baseUrl, tenant));
      case "discovery/v2.0/keys":
      case "discovery/keys":
        return get(() => jwks(signer, baseUrl, tenant));
      case "oauth2/v2.0/authorize":
        if (method === "GET") return authorize.get(res, tenant, url.searchParams);
        if (method === "POST") return authorize.post(req, res, tenant);
        return sendStatus(res, 405, "Method Not Allowed", { allow: "GET, POST" });
      case "oauth2/v2.0/token": {
        if (method !== "POST") return sendStatus(res, 405, "Method Not Allowed", { allow: "POST" });
        const body = await readBody(req);
        if (body === undefined) return sendStatus(res, 413, "Payload Too Large");
        const usedBasic = /^basic /i.test(req.headers.authorization ?? "");
        try {
          return sendJson(
            res,
            200,
            await handleTokenRequest(
              { baseUrl, app, accessTokenVersion, signer, clients, grants },
              tenant,
              req,
              parseForm(req, body),
            ),
          );
        } catch (error) {
          if (error instanceof DevOAuthError) return sendOAuthError(res, error, usedBasic);
          throw error;
        }
      }
      default:
        return sendStatus(res, 404, "Not Found");
    }
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof DevOAuthError) return sendOAuthError(res, error);
      // Internals stay in the process: the client learns only that it failed.
      sendJson(res, 500, {
        error: "server_error",
        error_description: "The development identity provider failed to answer this request.",
      });
    });
  });
  const confidentialClient = Object.freeze({ ...clients.confidential });
  const save = () =>
    store.saveProvider({
      port,
      tenantId,
      clientId: app.clientId,
      applicationIdUri: app.applicationIdUri,
      scopes: app.scopes,
      roles: app.roles,
      accessTokenVersion,
    });
  await save();
  const mintToken = createMinter({
    signer,
    baseUrl,
    app,
    tenantId,
    accessTokenVersion,
    defaultClientId: confidentialClient.clientId,
    users,
  });
  let closing: Promise<void> | undefined;

  return Object.freeze({
    issuer: issuerOf(baseUrl, tenantId, 2),
    instance: `${baseUrl}/`,
    url: baseUrl,
    port,
    tenantId,
    clientId: app.clientId,
    applicationIdUri: app.applicationIdUri,
    confidentialClient,
    mintToken,
    async expose(scopes: readonly string[], roles: readonly string[]) {
      app.scopes = Object.freeze([...new Set([...app.scopes, ...scopes])]);
      app.roles = Object.freeze([...new Set([...app.roles, ...roles])]);
      await save();
    },
    azureAdConfig: () => ({
      instance: `${baseUrl}/`,
      tenantId,
      clientId: app.clientId,
      applicationIdUri: app.applicationIdUri,
      tokenVersions: [accessTokenVersion],
    }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  });
}
