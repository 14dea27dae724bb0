import type { ConfidentialClientApplication, Configuration } from "@azure/msal-node";
import type { MsalCredential } from "./credentials.js";
import { ClaimsChallengeError, DownstreamError } from "./errors.js";

export interface OboOptions {
  /** This app's client ID (`azureAd.clientId`). */
  readonly clientId: string;
  /** The Entra instance (`azureAd.instance`): public cloud, sovereign cloud, or a test emulator. */
  readonly instance: string;
  /** The client credential, resolved on first use (it may need Key Vault or a package import). */
  readonly credential: () => Promise<MsalCredential>;
  /** Most tenants one process keeps an MSAL client for (multi-tenant apps); the oldest goes first. */
  readonly maxTenants?: number;
}

/** What the token request knows about the caller. */
export interface OboCaller {
  /** The inbound access token: the OBO `assertion`, never sent anywhere else. */
  readonly assertion: string;
  /** `tid` of that token: the token request goes to this tenant (OBO-06). */
  readonly tenantId: string;
  /** Whether the caller's client handles claims challenges (`xms_cc` holds `cp1`, ENTRA-12). */
  readonly clientCapable: boolean;
}

const DEFAULT_MAX_TENANTS = 1_000;

/** The fields of MSAL's `AuthError` family Paved reads. */
interface MsalErrorFields {
  readonly name: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** `InteractionRequiredAuthError`: the claims challenge (JSON). */
  readonly claims: string;
  /** `ServerError`: the HTTP status. */
  readonly status: number;
}
const AADSTS = /AADSTS\d+/;
const TRANSIENT = new Set(["temporarily_unavailable", "server_error", "service_unavailable"]);

function credentialAuth(credential: MsalCredential): Partial<Configuration["auth"]> {
  switch (credential.kind) {
    case "assertion":
      return { clientAssertion: () => credential.clientAssertion() };
    case "certificate":
      return { clientCertificate: { ...credential.clientCertificate } };
    case "secret":
      return { clientSecret: credential.clientSecret };
  }
}

/**
 * On-behalf-of token acquisition through MSAL Node: one `ConfidentialClientApplication` per tenant,
 * made on first use and kept, so MSAL's own in-memory cache (keyed by a hash of the user's assertion,
 * OBO-12) serves repeat calls; Paved keeps no token cache of its own.
 */
export class OboTokenProvider {
  private readonly options: OboOptions;
  private readonly instance: string;
  private readonly apps = new Map<string, Promise<ConfidentialClientApplication>>();

  constructor(options: OboOptions) {
    this.options = options;
    this.instance = options.instance.endsWith("/") ? options.instance : `${options.instance}/`;
  }

  /** An access token for `scopes` on behalf of the caller. Throws {@link DownstreamError}s only. */
  async acquire(caller: OboCaller, scopes: readonly string[]): Promise<string> {
    const app = await this.app(caller.tenantId);
    try {
      const result = await app.acquireTokenOnBehalfOf({
        oboAssertion: caller.assertion,
        scopes: [...scopes],
        authority: `${this.instance}${caller.tenantId}`,
      });
      if (result === null || result.accessToken === "")
        throw new DownstreamError("ERR_DOWNSTREAM_TOKEN", "Entra ID returned no downstream token.");
      return result.accessToken;
    } catch (error) {
      throw toDownstreamError(error, caller);
    }
  }

  private app(tenantId: string): Promise<ConfidentialClientApplication> {
    let app = this.apps.get(tenantId);
    if (app !== undefined) return app;
    app = this.create(tenantId);
    // A failure (no usable credential yet) is not kept: the next call tries again.
    app.catch(() => this.apps.delete(tenantId));
    if (this.apps.size >= (this.options.maxTenants ?? DEFAULT_MAX_TENANTS)) {
      const oldest = this.apps.keys().next().value;
      if (oldest !== undefined) this.apps.delete(oldest);
    }
    this.apps.set(tenantId, app);
    return app;
  }

  private async create(tenantId: string): Promise<ConfidentialClientApplication> {
    let credential: MsalCredential;
    try {
      credential = await this.options.credential();
    } catch (error) {
      throw new DownstreamError(
        "ERR_DOWNSTREAM_CREDENTIAL",
        "The server cannot call the downstream API: its client credential is not usable. An administrator should check azureAd.clientCredentials (paved doctor, and the server log).",
        { cause: error },
      );
    }
    const host = new URL(this.instance).host;
    // Loaded on the first downstream call: servers whose tools never call one never load MSAL.
    const { ConfidentialClientApplication } = await import("@azure/msal-node");
    return new ConfidentialClientApplication({
      auth: {
        clientId: this.options.clientId,
        authority: `${this.instance}${tenantId}`,
        // The instance is trusted as configured: no instance discovery call to the public cloud (EMU-02).
        knownAuthorities: [host],
        ...credentialAuth(credential),
      },
      // A tool call has a deadline: MSAL's own retries would spend it; the error says when to retry.
      system: { disableInternalRetries: true },
    });
  }
}

/** The claims challenge as `WWW-Authenticate` carries it: base64 of Entra's JSON. */
function encodeClaims(claims: string): string {
  return Buffer.from(claims, "utf8").toString("base64");
}

function toDownstreamError(error: unknown, caller: OboCaller): DownstreamError {
  if (error instanceof DownstreamError) return error;
  // The client assertion callback failed (token file gone, managed identity down): MSAL sent nothing.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof DownstreamError) return cause;
  // MSAL's errors (AuthError and subclasses), told apart by their fields: MSAL is loaded lazily.
  const auth = error as Partial<MsalErrorFields> | null;
  if (auth === null || typeof auth.errorCode !== "string") {
    return new DownstreamError(
      "ERR_DOWNSTREAM_CREDENTIAL",
      "The server could not authenticate itself to Entra ID for the downstream API. An administrator should check azureAd.clientCredentials and the server log.",
      { cause: error },
    );
  }
  const claims = typeof auth.claims === "string" ? auth.claims : "";
  if (auth.name === "InteractionRequiredAuthError" || auth.errorCode === "interaction_required") {
    return new ClaimsChallengeError(
      "The downstream API needs you to sign in again (multi-factor authentication or a conditional access policy). Sign in to this server again in your MCP client, then retry.",
      claims === "" ? "" : encodeClaims(claims),
      caller.clientCapable,
      { cause: error },
    );
  }
  const status = typeof auth.status === "number" ? auth.status : undefined;
  const code = AADSTS.exec(auth.errorMessage ?? "")?.[0] ?? auth.errorCode;
  // Entra answers 429/5xx with these; MSAL then replays the failure from its throttling cache (until
  // Retry-After passes) with the numeric `error_codes` as the code, or none (OBO-13).
  if (
    status === 429 ||
    (status !== undefined && status >= 500) ||
    TRANSIENT.has(auth.errorCode) ||
    /^[\d ]*$/.test(auth.errorCode)
  ) {
    return new DownstreamError(
      "ERR_DOWNSTREAM_TOKEN",
      "The server could not get a token for the downstream API right now (Entra ID throttled or unavailable); retry later.",
      { cause: error },
    );
  }
  if (auth.errorCode === "network_error" || auth.errorCode === "endpoints_resolution_error") {
    return new DownstreamError(
      "ERR_DOWNSTREAM_TOKEN",
      "Entra ID could not be reached for a downstream token; retry later.",
      { cause: error },
    );
  }
  return new DownstreamError(
    "ERR_DOWNSTREAM_TOKEN",
    `Entra ID refused the on-behalf-of token request (${code}). An administrator should check the downstream API's consent and scopes.`,
    { cause: error },
  );
}
