const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

function parse(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * Redirect URIs a client may register: https anywhere, or plain http on loopback (RFC 8252 §7.3
 * native apps). No fragment (RFC 6749 §3.1.2) and no user info, which would only hide the real host.
 */
export function isAllowedRedirectUri(value: string): boolean {
  const url = parse(value);
  if (
    url === undefined ||
    url.hash !== "" ||
    value.includes("#") ||
    url.username !== "" ||
    url.password !== ""
  )
    return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}

/**
 * Exact string comparison (OAuth 2.1 §2.3.1), except that a loopback http redirect URI may use any
 * port at request time (RFC 8252 §7.3): native clients pick a free port per sign-in.
 */
export function redirectMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const a = parse(registered);
  const b = parse(requested);
  if (
    a === undefined ||
    b === undefined ||
    a.protocol !== "http:" ||
    b.protocol !== "http:" ||
    !LOOPBACK.has(a.hostname)
  )
    return false;
  return (
    a.hostname === b.hostname &&
    a.pathname === b.pathname &&
    a.search === b.search &&
    a.hash === "" &&
    b.hash === "" &&
    b.username === "" &&
    b.password === ""
  );
}
