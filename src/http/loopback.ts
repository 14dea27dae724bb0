/** Loopback host names: the only ones where plain http and the development defaults are allowed. */
export const LOOPBACK_HOSTNAMES: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return name === "localhost" || name === "[::1]" || name === "::1" || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** The host name of a `Host` header value (port and case removed), or `undefined` when malformed. */
export function hostnameOf(hostHeader: string): string | undefined {
  // RFC 7230: only SP and HTAB surround a field value, and a host is ASCII. `trim()` would also
  // strip U+00A0, and `toLowerCase()` folds U+212A (Kelvin sign) into an allowed "k" (found by fuzzing).
  const bare = hostHeader.replace(/^[\t ]+|[\t ]+$/g, "");
  if (!/^[\x21-\x7e]+$/.test(bare)) return undefined;
  const value = bare.toLowerCase();
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined;
    return value.slice(0, end + 1);
  }
  const colon = value.indexOf(":");
  const name = colon < 0 ? value : value.slice(0, colon);
  if (colon >= 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined;
  return /^[a-z0-9.-]+$/.test(name) ? name : undefined;
}
