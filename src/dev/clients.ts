import { randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { fetchClientMetadata, isClientMetadataUrl } from "./client-metadata.js";
import { guidFrom, sha256 } from "./ids.js";
import { DevOAuthError } from "./oauth-error.js";
import type { DevStateStore, StoredConfidentialClient, StoredRegistration } from "./state.js";

/** A client the provider knows: pre-registered, dynamically registered, or named by a metadata document URL. */
export interface DevClient {
  /** As the client sends it: a GUID, or the URL of its metadata document. */
  readonly clientId: string;
  /** A GUID for `azp` / `appid` (a metadata-document client gets one derived from its URL). */
  readonly appId: string;
  readonly kind: "confidential" | "public";
  readonly name: string;
  readonly redirectUris: readonly string[];
}

/** A client that passed token-endpoint authentication, and how. */
export interface AuthenticatedClient {
  readonly client: DevClient;
  readonly method: "client_secret_basic" | "client_secret_post" | "none";
}

export interface ClientRegistry {
  readonly confidential: StoredConfidentialClient;
  /** The authorize endpoint's view: fetches a metadata document when the ID is its URL. */
  lookup(clientId: string): Promise<DevClient | undefined>;
  register(registration: {
    readonly clientName?: string;
    readonly redirectUris: readonly string[];
  }): Promise<StoredRegistration>;
  /** RFC 6749 §2.3 client authentication at the token endpoint. */
  authenticate(req: IncomingMessage, form: URLSearchParams): AuthenticatedClient;
}

/** Registrations kept; the oldest go first, so a runaway script cannot grow the state file without bound. */
const MAX_REGISTRATIONS = 500;

function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0)
    throw new DevOAuthError(
      "invalid_client",
      7000216,
      "The client credentials in the Authorization header are malformed.",
      401,
    );
  // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
  const unescape = (part: string) => {
    try {
      return decodeURIComponent(part.replace(/\+/g, " "));
    } catch {
      return part;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

/** Compares hashes, so neither the length nor the content of the secret leaks through timing. */
function secretMatches(given: string, expected: string): boolean {
  return timingSafeEqual(Buffer.from(sha256(given)), Buffer.from(sha256(expected)));
}

export async function createClientRegistry(store: DevStateStore): Promise<ClientRegistry> {
  const confidential = await store.confidentialClient();
  const registrations = new Map(
    (await store.registrations()).map((registration) => [registration.clientId, registration]),
  );
  let saving: Promise<void> = Promise.resolve();

  const confidentialClient: DevClient = {
    clientId: confidential.clientId,
    appId: confidential.clientId,
    kind: "confidential",
    name: "Paved development client (confidential)",
    redirectUris: [],
  };

  function known(clientId: string): DevClient | undefined {
    if (clientId === confidential.clientId) return confidentialClient;
    const registration = registrations.get(clientId);
    if (registration !== undefined) {
      return {
        clientId,
        appId: clientId,
        kind: "public",
        name: registration.clientName ?? "Dynamically registered client",
        redirectUris: registration.redirectUris,
      };
    }
    // At the token endpoint a metadata-document client is public by definition; the code or refresh
    // token it presents is bound to its URL, so the document need not be fetched again.
    if (isClientMetadataUrl(clientId))
      return {
        clientId,
        appId: guidFrom("client-metadata-document", clientId),
        kind: "public",
        name: clientId,
        redirectUris: [],
      };
    return undefined;
  }

  return {
    confidential,
    async lookup(clientId) {
      if (!isClientMetadataUrl(clientId)) return known(clientId);
      const document = await fetchClientMetadata(clientId);
      return {
        clientId,
        appId: guidFrom("client-metadata-document", clientId),
        kind: "public",
        name: document.clientName ?? clientId,
        redirectUris: document.redirectUris,
      };
    },
    async register({ clientName, redirectUris }) {
      const registration: StoredRegistration = {
        clientId: randomUUID(),
        ...(clientName !== undefined && { clientName }),
        redirectUris: [...redirectUris],
        issuedAt: Math.floor(Date.now() / 1000),
      };
      registrations.set(registration.clientId, registration);
      for (const oldest of registrations.keys()) {
        if (registrations.size <= MAX_REGISTRATIONS) break;
        registrations.delete(oldest);
      }
      const snapshot = [...registrations.values()];
      saving = saving.then(() => store.saveRegistrations(snapshot));
      await saving;
      return registration;
    },
    // Entra-style answers: unknown app AADSTS700016, wrong secret AADSTS7000215, missing secret
    // AADSTS7000218, a secret from a public client AADSTS700025. All 401 invalid_client (RFC 6749 §5.2).
    authenticate(req, form) {
      const basic = basicCredentials(req);
      const bodySecret = form.get("client_secret") ?? undefined;
      const bodyId = form.get("client_id") ?? undefined;
      if (basic !== undefined && bodySecret !== undefined) {
        throw new DevOAuthError(
          "invalid_request",
          90023,
          "Use one client authentication method, not both Basic and client_secret.",
        );
      }
      if (basic !== undefined && bodyId !== undefined && bodyId !== basic.id) {
        throw new DevOAuthError(
          "invalid_request",
          90023,
          "The client_id in the body differs from the one in the Authorization header.",
        );
      }
      const clientId = basic?.id ?? bodyId;
      if (clientId === undefined || clientId === "")
        throw new DevOAuthError(
          "invalid_request",
          900144,
          "The request body must contain the following parameter: 'client_id'.",
        );
      const secret = basic?.secret ?? bodySecret;
      const client = known(clientId);
      if (client === undefined) {
        throw new DevOAuthError(
          "invalid_client",
          700016,
          `Application with identifier '${clientId}' was not found in the directory.`,
          401,
        );
      }
      if (client.kind === "public") {
        if (secret !== undefined)
          throw new DevOAuthError(
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            401,
          );
        return { client, method: "none" };
      }
      if (secret === undefined)
        throw new DevOAuthError(
          "invalid_client",
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
          401,
        );
      if (!secretMatches(secret, confidential.clientSecret)) {
        throw new DevOAuthError(
          "invalid_client",
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
          401,
        );
      }
      return { client, method: basic !== undefined ? "client_secret_basic" : "client_secret_post" };
    },
  };
}
