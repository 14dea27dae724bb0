/** RFC 6750 §3: auth-param values may only hold %x20-21 / %x23-5B / %x5D-7E. */
function clean(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, " ");
}

export interface ChallengeParams {
  readonly error?: "invalid_request" | "invalid_token" | "insufficient_scope";
  readonly description?: string;
  readonly scope?: readonly string[];
  readonly resourceMetadata?: string;
}

/** A `WWW-Authenticate: Bearer …` value, every parameter once, in a fixed order. */
export function bearerChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.resourceMetadata !== undefined)
    parts.push(`resource_metadata="${clean(params.resourceMetadata)}"`);
  if (params.scope !== undefined && params.scope.length > 0)
    parts.push(`scope="${clean(params.scope.join(" "))}"`);
  if (params.error !== undefined) parts.push(`error="${params.error}"`);
  if (params.description !== undefined) parts.push(`error_description="${clean(params.description)}"`);
  return parts.length === 0 ? "Bearer" : `Bearer ${parts.join(", ")}`;
}
