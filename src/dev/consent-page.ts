import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { ResolvedUser } from "./users.js";

/** Escapes text for HTML content and double-quoted attributes: every value on the page comes from a request or a client. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const STYLE =
  "body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}" +
  ".warn{background:#fff4ce;border:1px solid #e0c060;padding:.5rem .75rem;border-radius:4px}" +
  "fieldset{border:1px solid #ccc;border-radius:4px;margin:1rem 0}label{display:block;margin:.25rem 0}" +
  "code{font-size:13px}small{color:#555}button{font:inherit;padding:.4rem 1.2rem;margin-right:.5rem}";
// The one inline style is allowed by its hash: no 'unsafe-inline', no script at all.
const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

/**
 * Strict CSP: nothing loads, nothing runs, the page cannot be framed. `form-action` must also allow
 * the redirect URI's origin, because browsers apply it to the redirect that follows the POST.
 * `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null`
 * with the page's own form POST (Fetch, "serializing a request origin"), which the consent endpoint's
 * Origin check must refuse. `same-origin` still sends no Referer to any other origin (the client).
 */
function securityHeaders(formTargets: readonly string[]): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": `default-src 'none'; style-src ${STYLE_HASH}; form-action ${["'self'", ...formTargets].join(" ")}; frame-ancestors 'none'; base-uri 'none'`,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export interface ConsentPage {
  /** Where the form posts (the authorize endpoint's path). */
  readonly action: string;
  /** The per-page CSRF token; it is also the key of the pending request. */
  readonly csrf: string;
  readonly clientName: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly applicationIdUri: string;
  readonly users: readonly ResolvedUser[];
  readonly selectedUser: string;
  /** The requested scopes as the client wrote them (fully qualified, plus OpenID Connect scopes). */
  readonly scopes: readonly string[];
}

/** The sign-in and consent page: test users as radio buttons, requested scopes as checkboxes. */
export function sendConsentPage(res: ServerResponse, view: ConsentPage): void {
  const users = view.users
    .map(
      (user) =>
        `<label><input type="radio" name="user" value="${escapeHtml(user.id)}"${user.id === view.selectedUser ? " checked" : ""}> ${escapeHtml(user.name)} <small>${escapeHtml(user.username)}</small></label>`,
    )
    .join("");
  const scopes = view.scopes
    .map(
      (scope) =>
        `<label><input type="checkbox" name="scope" value="${escapeHtml(scope)}" checked> <code>${escapeHtml(scope)}</code></label>`,
    )
    .join("");
  const body =
    `<h1>Sign in</h1>` +
    `<p class="warn">Paved development identity provider: test users, no passwords. Never use it for anything real.</p>` +
    `<p><strong>${escapeHtml(view.clientName)}</strong> <small>(<code>${escapeHtml(view.clientId)}</code>)</small> wants to access <code>${escapeHtml(view.applicationIdUri)}</code> and will receive the answer at <code>${escapeHtml(view.redirectUri)}</code>.</p>` +
    `<form method="post" action="${escapeHtml(view.action)}">` +
    `<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">` +
    `<fieldset><legend>User</legend>${users}</fieldset>` +
    `<fieldset><legend>Permissions</legend>${scopes}</fieldset>` +
    `<button type="submit" name="action" value="consent">Consent</button><button type="submit" name="action" value="cancel">Cancel</button>` +
    `</form>`;
  const html = page("Sign in: Paved development identity provider", body);
  res.writeHead(200, {
    ...securityHeaders([new URL(view.redirectUri).origin]),
    "content-length": Buffer.byteLength(html),
  });
  res.end(html);
}

/** An error the user sees instead of a redirect (RFC 6749 §4.1.2.1: never redirect to an unverified client or URI). */
export function sendErrorPage(res: ServerResponse, status: number, message: string): void {
  const html = page("Sign-in error", `<h1>Sign-in error</h1><p>${escapeHtml(message)}</p>`);
  res.writeHead(status, { ...securityHeaders([]), "content-length": Buffer.byteLength(html) });
  res.end(html);
}
