import type { IncomingMessage, ServerResponse } from "node:http";
import type { ClientRegistry } from "./clients.js";
import { sendConsentPage, sendErrorPage } from "./consent-page.js";
import { metadataIssuer } from "./discovery.js";
import type { GrantStore } from "./grants.js";
import { parseForm, readBody } from "./http.js";
import { GUID, opaque } from "./ids.js";
import { DevOAuthError, printable } from "./oauth-error.js";
import { redirectMatches } from "./redirect-uris.js";
import { checkResource, OIDC_SCOPES, qualify, resolveScopes, type DevApp } from "./scopes.js";
import { resolveUser, type DevUser, type ResolvedUser } from "./users.js";

export interface AuthorizeContext {
  readonly baseUrl: string;
  readonly app: DevApp;
  readonly tenantId: string;
  readonly users: readonly DevUser[];
  readonly clients: ClientRegistry;
  readonly grants: GrantStore;
}

/** A validated authorization request waiting for the user's consent, keyed by the page's CSRF token. */
interface Pending {
  readonly tenant: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientAppId: string;
  readonly redirectUri: string;
  readonly state?: string;
  readonly codeChallenge: string;
  readonly nonce?: string;
  /** Short names that may be granted. */
  readonly resourceScopes: readonly string[];
  readonly oidc: readonly string[];
  readonly users: readonly ResolvedUser[];
  readonly expiresAt: number;
}

const PENDING_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1_000;
const SINGLE = [
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
  "resource",
  "nonce",
  "response_mode",
  "login_hint",
];
/** RFC 7636 §4.2: a S256 challenge is 43 base64url characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Where an error goes once client and redirect URI are verified: back to the client (RFC 6749 §4.1.2.1), with `state` and `iss` (RFC 9207). */
function redirectWith(
  res: ServerResponse,
  redirectUri: string,
  params: Record<string, string | undefined>,
  status = 302,
): void {
  const location = new URL(redirectUri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) location.searchParams.set(key, value);
  res.writeHead(status, {
    location: location.href,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
  });
  res.end();
}

function errorParams(error: DevOAuthError): Record<string, string> {
  return { error: error.error, error_description: printable(`AADSTS${error.aadsts}: ${error.message}`) };
}

/** `GET` shows the consent page for a verified request; `POST` takes the consent and redirects with a code. */
export function createAuthorizeEndpoint(context: AuthorizeContext) {
  const pending = new Map<string, Pending>();
  const tenantIdOf = (tenant: string) => (GUID.test(tenant) ? tenant : context.tenantId);

  async function get(res: ServerResponse, tenant: string, query: URLSearchParams): Promise<void> {
    for (const name of SINGLE) {
      if (query.getAll(name).length > 1)
        return sendErrorPage(res, 400, `The parameter '${name}' is included more than once.`);
    }
    const clientId = query.get("client_id") ?? "";
    const redirectUri = query.get("redirect_uri") ?? "";
    if (clientId === "") return sendErrorPage(res, 400, "The request must contain a client_id.");
    let client;
    try {
      client = await context.clients.lookup(clientId);
    } catch (error) {
      if (error instanceof DevOAuthError) return sendErrorPage(res, 400, error.message);
      throw error;
    }
    if (client === undefined)
      return sendErrorPage(
        res,
        400,
        `Application with identifier '${clientId}' was not found in the directory.`,
      );
    if (
      redirectUri === "" ||
      !client.redirectUris.some((registered) => redirectMatches(registered, redirectUri))
    ) {
      return sendErrorPage(
        res,
        400,
        `The redirect URI '${redirectUri}' does not match the redirect URIs registered for the client '${clientId}'.`,
      );
    }

    // Client and redirect URI are verified: from here errors go back to the client.
    const state = query.get("state") ?? undefined;
    const iss = metadataIssuer(context.baseUrl, tenant, 2);
    try {
      if (query.get("response_type") !== "code") {
        throw new DevOAuthError("unsupported_response_type", 700054, "Only response_type=code is supported.");
      }
      const mode = query.get("response_mode");
      if (mode !== null && mode !== "query")
        throw new DevOAuthError("invalid_request", 900144, "Only response_mode=query is supported.");
      const challenge = query.get("code_challenge") ?? "";
      if (challenge === "")
        throw new DevOAuthError(
          "invalid_request",
          9002325,
          "Proof Key for Code Exchange (PKCE) is required: send code_challenge.",
        );
      if (query.get("code_challenge_method") !== "S256" || !CHALLENGE.test(challenge)) {
        throw new DevOAuthError(
          "invalid_request",
          50148,
          "The code_challenge_method must be S256 with a 43-character base64url code_challenge.",
        );
      }
      const scopes = resolveScopes(query.get("scope") ?? undefined, context.app);
      checkResource(query.get("resource") ?? undefined, context.app);
      const tenantId = tenantIdOf(tenant);
      const users = context.users.map((user) => resolveUser(user, tenantId, context.users));
      const csrf = opaque();
      const nonce = query.get("nonce") ?? undefined;
      pending.set(csrf, {
        tenant,
        tenantId,
        clientId,
        clientAppId: client.appId,
        redirectUri,
        ...(state !== undefined && { state }),
        codeChallenge: challenge,
        ...(nonce !== undefined && { nonce }),
        resourceScopes: scopes.resource,
        oidc: scopes.oidc,
        users,
        expiresAt: Date.now() + PENDING_TTL_MS,
      });
      for (const oldest of pending.keys()) {
        if (pending.size <= MAX_PENDING) break;
        pending.delete(oldest);
      }
      const hint = query.get("login_hint");
      sendConsentPage(res, {
        action: `/${tenant}/oauth2/v2.0/authorize`,
        csrf,
        clientName: client.name,
        clientId,
        redirectUri,
        applicationIdUri: context.app.applicationIdUri,
        users,
        selectedUser:
          users.find((user) => user.username === hint || user.id === hint)?.id ?? users[0]?.id ?? "",
        scopes: [...scopes.resource.map((short) => qualify(context.app, short)), ...scopes.oidc],
      });
    } catch (error) {
      if (!(error instanceof DevOAuthError)) throw error;
      redirectWith(res, redirectUri, { ...errorParams(error), state, iss });
    }
  }

  async function post(req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
    // Cross-site form posts carry the attacker's Origin; the CSRF token below is the real guard.
    const origin = req.headers.origin;
    const port = new URL(context.baseUrl).port;
    if (origin !== undefined && origin !== context.baseUrl && origin !== `http://localhost:${port}`) {
      return sendErrorPage(res, 403, "The consent form was posted from another origin.");
    }
    const body = await readBody(req);
    if (body === undefined) return sendErrorPage(res, 413, "The request body is too large.");
    let form: URLSearchParams;
    try {
      form = parseForm(req, body, ["scope"]);
    } catch (error) {
      if (error instanceof DevOAuthError) return sendErrorPage(res, 400, error.message);
      throw error;
    }
    const csrf = form.get("csrf") ?? "";
    const request = pending.get(csrf);
    pending.delete(csrf);
    if (request === undefined || request.expiresAt <= Date.now() || request.tenant !== tenant) {
      return sendErrorPage(
        res,
        400,
        "This sign-in page has expired or was already used. Start the sign-in again from the client.",
      );
    }
    const iss = metadataIssuer(context.baseUrl, tenant, 2);
    const back = (params: Record<string, string | undefined>) =>
      redirectWith(res, request.redirectUri, { ...params, state: request.state, iss }, 303);
    if (form.get("action") !== "consent") {
      return back(
        errorParams(new DevOAuthError("access_denied", 65004, "User declined to consent to access the app.")),
      );
    }
    const user = request.users.find((candidate) => candidate.id === form.get("user"));
    if (user === undefined)
      return sendErrorPage(
        res,
        400,
        "Pick one of the listed users. Start the sign-in again from the client.",
      );
    const checked = new Set(form.getAll("scope"));
    const scopes = request.resourceScopes.filter((short) => checked.has(qualify(context.app, short)));
    const oidc = request.oidc.filter((scope) => OIDC_SCOPES.has(scope) && checked.has(scope));
    if (scopes.length === 0) {
      return back(
        errorParams(
          new DevOAuthError(
            "access_denied",
            65004,
            `No permission of ${context.app.applicationIdUri} was granted.`,
          ),
        ),
      );
    }
    const code = context.grants.issueCode({
      clientId: request.clientId,
      clientAppId: request.clientAppId,
      tenantId: request.tenantId,
      user,
      scopes,
      oidc,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      ...(request.nonce !== undefined && { nonce: request.nonce }),
    });
    back({ code });
  }

  return { get, post };
}
