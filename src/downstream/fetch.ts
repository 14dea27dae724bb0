import type { Principal } from "../auth/principal.js";
import type { DownstreamApiConfig } from "../config/schema.js";
import type { Logger } from "../telemetry/logger.js";
import { recordClaimsChallenge } from "./challenge.js";
import { ClaimsChallengeError, DownstreamError } from "./errors.js";
import type { OboTokenProvider } from "./obo.js";
import { isUnder, normalizeBase, resolveUnder } from "./url.js";

/** `ctx.downstream`: calls to protected APIs as the signed-in user (on-behalf-of). */
export interface Downstream {
  /**
   * Calls the API configured as `downstream.<api>` on behalf of the caller: `pathOrUrl` is resolved
   * under its `baseUrl` (anything outside is refused), an on-behalf-of token for its `scopes` goes in
   * `Authorization`. Resolves with the response for 2xx, 3xx and 4xx other than 401/403/429; those,
   * 5xx, timeouts and cancellation throw a {@link DownstreamError} (a tool error, no secrets in it).
   *
   * @example
   * const me = await (await ctx.downstream.fetch("graph", "/me")).json();
   */
  fetch(api: string, pathOrUrl: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * `Bearer <token>` for `scopes` on behalf of the caller, for any other HTTP client. Keep it for
   * one request: MSAL caches and refreshes tokens; a copy kept elsewhere misses revocation.
   */
  authorizationHeader(
    scopes: readonly string[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<string>;
}

/** What one call knows about its caller. */
export interface DownstreamCall {
  readonly principal: Principal;
  /** The inbound bearer token; `undefined` when authentication is off. */
  readonly token: string | undefined;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The request's state: where a claims challenge is noted for the HTTP answer. */
  readonly state: object;
}

/** The host-wide part: configured APIs and the token provider, made once. */
export interface DownstreamServices {
  readonly apis: Readonly<Record<string, DownstreamApiConfig>>;
  /** A string when OBO cannot work at all (no azureAd, no credentials): the tool error it gives. */
  readonly provider: OboTokenProvider | string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value.trim());
  if (Number.isInteger(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function hasCp1(principal: Principal): boolean {
  const xmsCc = principal.claims["xms_cc"];
  return Array.isArray(xmsCc) ? xmsCc.includes("cp1") : xmsCc === "cp1";
}

export class DownstreamClient implements Downstream {
  private readonly services: DownstreamServices;
  private readonly call: DownstreamCall;

  constructor(services: DownstreamServices, call: DownstreamCall) {
    this.services = services;
    this.call = call;
  }

  async authorizationHeader(
    scopes: readonly string[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<string> {
    if (scopes.length === 0) throw new TypeError("authorizationHeader needs at least one scope");
    const signal =
      options.signal === undefined ? this.call.signal : AbortSignal.any([this.call.signal, options.signal]);
    return `Bearer ${await this.token(scopes, signal, "the downstream API", undefined)}`;
  }

  async fetch(api: string, pathOrUrl: string | URL, init: RequestInit = {}): Promise<Response> {
    const config = Object.hasOwn(this.services.apis, api) ? this.services.apis[api] : undefined;
    if (config === undefined) {
      throw new DownstreamError(
        "ERR_DOWNSTREAM_UNKNOWN_API",
        `No downstream API is named "${api}": configure downstream.${api} (baseUrl, scopes).`,
      );
    }
    const base = normalizeBase(config.baseUrl);
    let url = resolveUnder(base, pathOrUrl, api);
    const timeoutMs = config.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([this.call.signal, deadline, ...(init.signal ? [init.signal] : [])]);
    const what = `the downstream API "${api}"`;
    const token = await this.token(config.scopes, signal, what, timeoutMs);
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    let request: RequestInit = { ...init, headers, redirect: "manual", signal };
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        response = await fetch(url, request);
      } catch (error) {
        throw (
          this.aborted(signal, what, timeoutMs) ??
          new DownstreamError(
            "ERR_DOWNSTREAM_UNAVAILABLE",
            `The downstream API "${api}" could not be reached; retry later.`,
            { cause: error },
          )
        );
      }
      if (REDIRECTS.has(response.status)) {
        const location = response.headers.get("location");
        await response.body?.cancel();
        const method = (request.method ?? "GET").toUpperCase();
        // Followed only under the base, and only when nothing but the method and URL must be replayed.
        const next = location === null ? undefined : URL.parse(location, url);
        if (next === undefined || next === null || !isUnder(next, base) || hop >= MAX_REDIRECTS)
          throw new DownstreamError(
            "ERR_DOWNSTREAM_URL_REFUSED",
            `Refused: the URL leaves the downstream API "${api}".`,
          );
        if (method !== "GET" && method !== "HEAD" && response.status !== 303)
          throw new DownstreamError(
            "ERR_DOWNSTREAM_URL_REFUSED",
            `Refused: ${what} redirected a ${method} request.`,
          );
        if (response.status === 303) request = { ...request, method: "GET", body: null };
        url = next;
        continue;
      }
      return this.check(response, api);
    }
  }

  private async check(response: Response, api: string): Promise<Response> {
    const status = response.status;
    if (status !== 401 && status !== 403 && status !== 429 && status < 500) return response;
    await response.body?.cancel();
    if (status === 429) {
      const retry = retryAfterSeconds(response.headers.get("retry-after"));
      throw new DownstreamError(
        "ERR_DOWNSTREAM_THROTTLED",
        `The downstream API "${api}" is throttling requests (HTTP 429); retry ${retry === undefined ? "later" : `in ${retry} seconds`}.`,
        retry === undefined ? undefined : { retryAfterSeconds: retry },
      );
    }
    if (status >= 500) {
      throw new DownstreamError(
        "ERR_DOWNSTREAM_UNAVAILABLE",
        `The downstream API "${api}" failed (HTTP ${status}); retry later.`,
      );
    }
    throw new DownstreamError(
      "ERR_DOWNSTREAM_DENIED",
      `The downstream API "${api}" refused the call (HTTP ${status}): the signed-in user may lack access to it.`,
    );
  }

  private aborted(
    signal: AbortSignal,
    what: string,
    timeoutMs: number | undefined,
  ): DownstreamError | undefined {
    if (!signal.aborted) return undefined;
    if (this.call.signal.aborted)
      return new DownstreamError("ERR_DOWNSTREAM_CANCELLED", `The call to ${what} was cancelled.`);
    const subject = `${what.charAt(0).toUpperCase()}${what.slice(1)}`;
    return new DownstreamError(
      "ERR_DOWNSTREAM_TIMEOUT",
      timeoutMs === undefined
        ? `${subject} did not answer in time.`
        : `${subject} did not answer within ${timeoutMs} ms.`,
    );
  }

  /** The OBO token, raced against `signal` (MSAL takes no signal: an abandoned request finishes alone). */
  private async token(
    scopes: readonly string[],
    signal: AbortSignal,
    what: string,
    timeoutMs: number | undefined,
  ): Promise<string> {
    const { principal, token } = this.call;
    if (principal.isAppOnly) {
      throw new DownstreamError(
        "ERR_DOWNSTREAM_APP_ONLY",
        "This tool acts on behalf of a signed-in user, and the caller is an application (an app-only token): call it with a user's token.",
      );
    }
    const provider = this.services.provider;
    if (typeof provider === "string") throw new DownstreamError("ERR_DOWNSTREAM_CREDENTIAL", provider);
    if (token === undefined || principal.tenantId === undefined) {
      throw new DownstreamError(
        "ERR_DOWNSTREAM_NO_USER_TOKEN",
        "This tool acts on behalf of a signed-in user, and the request carries no Entra ID user token.",
      );
    }
    const early = this.aborted(signal, what, timeoutMs);
    if (early !== undefined) throw early;
    const acquisition = provider.acquire(
      { assertion: token, tenantId: principal.tenantId, clientCapable: hasCp1(principal) },
      scopes,
    );
    let onAbort: (() => void) | undefined;
    const abort = new Promise<never>((_, reject) => {
      onAbort = () => {
        reject(this.aborted(signal, what, timeoutMs) ?? new Error("aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([acquisition, abort]);
    } catch (error) {
      if (error instanceof ClaimsChallengeError && error.clientCapable && error.claims !== "")
        recordClaimsChallenge(this.call.state, error);
      if (
        error instanceof DownstreamError &&
        error.code !== "ERR_DOWNSTREAM_TIMEOUT" &&
        error.code !== "ERR_DOWNSTREAM_CANCELLED"
      ) {
        this.call.log.warn({ code: error.code, err: error.cause }, "on-behalf-of token request failed");
      }
      throw error;
    } finally {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      acquisition.catch(() => undefined);
    }
  }
}
