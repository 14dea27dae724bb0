import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Marks a request one replica forwards to the replica that owns its session. The owner never
 * forwards such a request again (one hop at most, so replicas cannot loop), and only replicas
 * holding the shared keys can make one. It carries no identity: the owner authenticates the
 * forwarded `Authorization` header itself.
 */
export const FORWARDED_HEADER = "x-paved-forwarded";

/** How far a forwarded request's timestamp may be from the owner's clock, in seconds. */
const WINDOW_SECONDS = 60;

export interface ForwardedRequest {
  readonly method: string;
  readonly path: string;
  readonly sessionId: string;
}

function mac(key: Uint8Array, timestamp: string, request: ForwardedRequest): Buffer {
  return createHmac("sha256", key)
    .update(`paved-forwarded/v1\n${timestamp}\n${request.method}\n${request.path}\n${request.sessionId}`)
    .digest();
}

/** `v1.<unix seconds>.<HMAC-SHA256, base64url>`, signed with the current forwarding key. */
export function signForwarded(
  keys: readonly Uint8Array[],
  request: ForwardedRequest,
  now = Date.now(),
): string {
  const timestamp = String(Math.floor(now / 1000));
  return `v1.${timestamp}.${mac(keys[0] as Uint8Array, timestamp, request).toString("base64url")}`;
}

/** Whether `value` is a fresh mark made with one of `keys` for exactly this request. */
export function verifyForwarded(
  keys: readonly Uint8Array[],
  value: string,
  request: ForwardedRequest,
  now = Date.now(),
): boolean {
  const match = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (match === null) return false;
  const [, timestamp = "", signature = ""] = match;
  if (Math.abs(now / 1000 - Number(timestamp)) > WINDOW_SECONDS) return false;
  const given = Buffer.from(signature, "base64url");
  return keys.some((key) => {
    const expected = mac(key, timestamp, request);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}
