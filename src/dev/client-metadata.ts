import { DevOAuthError } from "./oauth-error.js";
import { isAllowedRedirectUri } from "./redirect-uris.js";

/** The parts of a client ID metadata document the provider uses. */
export interface ClientMetadataDocument {
  readonly clientId: string;
  readonly clientName?: string;
  readonly redirectUris: readonly string[];
}

const MAX_DOCUMENT_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 5_000;
const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/**
 * Whether a `client_id` names a client ID metadata document (draft-ietf-oauth-client-id-metadata-document):
 * an https URL with a path. On loopback plain http is accepted too, so tests and local clients can
 * serve their own document.
 */
export function isClientMetadataUrl(clientId: string): boolean {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  if (
    url.hash !== "" ||
    clientId.includes("#") ||
    url.username !== "" ||
    url.password !== "" ||
    url.pathname === "/"
  )
    return false;
  // A document URL must not contain dot segments (§3): URL parsing would silently remove them.
  if (/\/\.\.?(?:\/|$)/.test(clientId.replace(/[?#].*$/, ""))) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}

function reject(message: string): DevOAuthError {
  return new DevOAuthError(
    "invalid_client",
    700016,
    `The client ID metadata document could not be used: ${message}.`,
  );
}

async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel();
      throw reject(`larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Fetches and checks a client ID metadata document: no redirects followed, bounded in time and
 * size, `client_id` equal to the URL it came from (§4.1), only public-client authentication
 * (shared secrets are forbidden for these clients), and acceptable redirect URIs.
 */
export async function fetchClientMetadata(url: string): Promise<ClientMetadataDocument> {
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: "error",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (error) {
    throw reject(`fetching it failed (${error instanceof Error ? error.name : "error"})`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw reject(`fetching it answered HTTP ${response.status}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(await readBounded(response)) as unknown;
  } catch (error) {
    if (error instanceof DevOAuthError) throw error;
    throw reject("it is not JSON");
  }
  if (typeof document !== "object" || document === null || Array.isArray(document))
    throw reject("it is not a JSON object");
  const fields = document as Record<string, unknown>;
  if (fields["client_id"] !== url) throw reject("its client_id is not the URL it was fetched from");
  const redirectUris = fields["redirect_uris"];
  if (
    !Array.isArray(redirectUris) ||
    redirectUris.length === 0 ||
    !redirectUris.every((uri): uri is string => typeof uri === "string" && isAllowedRedirectUri(uri))
  ) {
    throw reject("redirect_uris must list https URIs or http loopback URIs");
  }
  const method = fields["token_endpoint_auth_method"];
  if ((method !== undefined && method !== "none") || fields["client_secret"] !== undefined) {
    throw reject("only public clients (token_endpoint_auth_method none) are supported");
  }
  const name = fields["client_name"];
  return {
    clientId: url,
    redirectUris,
    ...(typeof name === "string" && name !== "" && { clientName: name.slice(0, 200) }),
  };
}
