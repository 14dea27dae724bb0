import { DownstreamError } from "./errors.js";

/** `baseUrl` with a trailing slash, so relative paths land under its path. */
export function normalizeBase(baseUrl: string): URL {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith("/")) base.pathname = `${base.pathname}/`;
  return base;
}

function refused(api: string): DownstreamError {
  return new DownstreamError(
    "ERR_DOWNSTREAM_URL_REFUSED",
    `Refused: the URL leaves the downstream API "${api}".`,
  );
}

/** A `..` segment in any spelling (`..`, `%2e%2e`, `.%2E`): refused rather than normalized away. */
function hasDotDot(path: string): boolean {
  return path
    .split(/[/\\]/)
    .some((segment) => segment.replaceAll(/%2e/gi, ".") === ".." || segment.replaceAll(/%2e/gi, ".") === ".");
}

/** Whether `url` is the base itself or under it (same origin, path prefix). */
export function isUnder(url: URL, base: URL): boolean {
  return (
    url.origin === base.origin &&
    url.pathname.startsWith(base.pathname) &&
    url.username === "" &&
    url.password === ""
  );
}

/**
 * Resolves what a tool passed to `ctx.downstream.fetch` against the API's base. A relative path
 * (leading `/` or not) lands under the base path; an absolute URL is accepted only when it is already
 * under the base. Anything else (another host, `//host`, `..`, a backslash, credentials in the URL)
 * is refused before any token is requested or any byte leaves the process (SSRF, SEC-03).
 */
export function resolveUnder(base: URL, pathOrUrl: string | URL, api: string): URL {
  const text = String(pathOrUrl);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (text.includes("\\") || /[\u0000-\u001f\u007f]/.test(text)) throw refused(api);
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) || text.startsWith("//");
  const pathPart = text.split(/[?#]/, 1)[0] ?? "";
  if (hasDotDot(absolute ? pathPart.replace(/^[^:]*:\/\/[^/]*/, "") : pathPart)) throw refused(api);
  let url: URL;
  try {
    url = absolute ? new URL(text) : new URL(text.replace(/^\/+/, ""), base);
  } catch {
    throw refused(api);
  }
  if (!isUnder(url, base)) throw refused(api);
  url.hash = "";
  return url;
}
