import type { IncomingMessage } from "node:http";
import type { ClientRegistry } from "./clients.js";
import { DevOAuthError } from "./oauth-error.js";
import { isAllowedRedirectUri } from "./redirect-uris.js";

const GRANT_TYPES = ["authorization_code", "refresh_token"];

/**
 * `POST /register`: RFC 7591 dynamic registration, public clients only (Entra has no DCR; MCP
 * clients that lack a pre-registered ID use it). A request for a secret-based method is answered
 * with `none` (RFC 7591 §3.2.1 lets the server replace requested values); the client reads it back.
 * Returns the JSON body of the 201 answer or throws {@link DevOAuthError}.
 */
export async function handleRegistration(
  clients: ClientRegistry,
  req: IncomingMessage,
  body: string,
): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new DevOAuthError(
      "invalid_client_metadata",
      900561,
      "The registration request must be application/json.",
    );
  let metadata: unknown;
  try {
    metadata = JSON.parse(body) as unknown;
  } catch {
    throw new DevOAuthError("invalid_client_metadata", 900561, "The registration request is not JSON.");
  }
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new DevOAuthError(
      "invalid_client_metadata",
      900561,
      "The registration request must be a JSON object.",
    );
  }
  const fields = metadata as Record<string, unknown>;
  const redirectUris = fields["redirect_uris"];
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.length > 20) {
    throw new DevOAuthError("invalid_redirect_uri", 500113, "redirect_uris must list 1 to 20 redirect URIs.");
  }
  for (const uri of redirectUris) {
    if (typeof uri !== "string" || !isAllowedRedirectUri(uri)) {
      throw new DevOAuthError(
        "invalid_redirect_uri",
        500113,
        `The redirect URI '${String(uri)}' is not allowed: use https, or http on 127.0.0.1, [::1] or localhost.`,
      );
    }
  }
  const grantTypes = fields["grant_types"];
  if (
    grantTypes !== undefined &&
    (!Array.isArray(grantTypes) || !grantTypes.every((grant) => GRANT_TYPES.includes(grant as string)))
  ) {
    throw new DevOAuthError(
      "invalid_client_metadata",
      900561,
      "grant_types may only hold authorization_code and refresh_token.",
    );
  }
  const responseTypes = fields["response_types"];
  if (
    responseTypes !== undefined &&
    (!Array.isArray(responseTypes) || !responseTypes.every((response) => response === "code"))
  ) {
    throw new DevOAuthError("invalid_client_metadata", 900561, "response_types may only hold code.");
  }
  const name = fields["client_name"];
  if (name !== undefined && (typeof name !== "string" || name.length > 200)) {
    throw new DevOAuthError(
      "invalid_client_metadata",
      900561,
      "client_name must be a string of at most 200 characters.",
    );
  }
  const registration = await clients.register({
    redirectUris: redirectUris as string[],
    ...(name !== undefined && name !== "" && { clientName: name }),
  });
  return {
    client_id: registration.clientId,
    client_id_issued_at: registration.issuedAt,
    ...(registration.clientName !== undefined && { client_name: registration.clientName }),
    redirect_uris: registration.redirectUris,
    grant_types: GRANT_TYPES,
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
}
