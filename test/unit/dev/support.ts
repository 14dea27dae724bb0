import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import {
  createDevIdentityProvider,
  type DevIdentityProvider,
  type DevIdentityProviderOptions,
} from "paved-mcp/dev";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh state directory, removed after the test. */
export async function tempStateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "paved-dev-idp-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, ".paved");
}

/** A provider on a free loopback port with its own state directory, closed after the test. */
export async function startProvider(options: DevIdentityProviderOptions = {}): Promise<DevIdentityProvider> {
  const provider = await createDevIdentityProvider({ stateDir: await tempStateDir(), ...options });
  cleanups.push(() => provider.close());
  return provider;
}

/** Registers a cleanup (a server the test started) to run after the test. */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** An RFC 7636 S256 pair. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** POST an urlencoded form to the provider's token endpoint. */
export async function tokenRequest(
  provider: DevIdentityProvider,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
  tenant = provider.tenantId,
): Promise<Response> {
  return fetch(`${provider.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: form(fields),
  });
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

/** Reverses the page's escaping (numeric character references). */
export function unescapeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** The CSRF token of a consent page. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (match?.[1] === undefined) throw new Error(`no CSRF token in the page:\n${html}`);
  return match[1];
}

export interface AuthorizeParams {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly challenge: string;
  readonly state?: string;
  readonly resource?: string;
  readonly nonce?: string;
}

export function authorizeUrl(provider: DevIdentityProvider, params: AuthorizeParams): string {
  const url = new URL(`${provider.url}/${provider.tenantId}/oauth2/v2.0/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", params.clientId);
  url.searchParams.set("redirect_uri", params.redirectUri);
  url.searchParams.set("scope", params.scope);
  url.searchParams.set("code_challenge", params.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  if (params.state !== undefined) url.searchParams.set("state", params.state);
  if (params.resource !== undefined) url.searchParams.set("resource", params.resource);
  if (params.nonce !== undefined) url.searchParams.set("nonce", params.nonce);
  return url.href;
}

/**
 * The browser part of the code flow, in plain HTTP: GET the consent page, read its CSRF token,
 * POST consent (every requested scope stays checked), and return the redirect's URL.
 */
export async function consent(
  provider: DevIdentityProvider,
  params: AuthorizeParams,
  user = "alice",
  uncheck: readonly string[] = [],
): Promise<URL> {
  const page = await fetch(authorizeUrl(provider, params), { redirect: "manual" });
  if (page.status !== 200)
    throw new Error(
      `authorize answered ${page.status}: ${page.headers.get("location") ?? (await page.text())}`,
    );
  const html = await page.text();
  const scopes = [...html.matchAll(/name="scope" value="([^"]+)"/g)].map((match) => unescapeHtml(match[1]!));
  const body = new URLSearchParams({ csrf: csrfOf(html), user, action: "consent" });
  for (const scope of scopes) if (!uncheck.includes(scope)) body.append("scope", scope);
  const posted = await fetch(`${provider.url}/${provider.tenantId}/oauth2/v2.0/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: provider.url },
    body,
    redirect: "manual",
  });
  if (posted.status !== 303) throw new Error(`consent answered ${posted.status}: ${await posted.text()}`);
  return new URL(posted.headers.get("location")!);
}

/** Registers a public client with RFC 7591 dynamic registration and returns its client_id. */
export async function register(
  provider: DevIdentityProvider,
  redirectUris: readonly string[],
  clientName = "Test client",
): Promise<string> {
  const response = await fetch(`${provider.url}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: redirectUris,
      client_name: clientName,
      token_endpoint_auth_method: "none",
    }),
  });
  if (response.status !== 201)
    throw new Error(`registration answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { client_id: string }).client_id;
}
