/**
 * Sent on every response. JSON and SSE only ever flow here, so the strictest settings cost nothing:
 * no sniffing, no caching (answers carry per-user data), no framing, no referrer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
});
