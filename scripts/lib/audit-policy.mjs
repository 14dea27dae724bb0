/**
 * The decisions behind `npm run audit` (scripts/audit.mjs), kept free of I/O so the unit tests in
 * test/unit/scripts/ can drive them with recorded `npm audit --json` output.
 *
 * Policy: an advisory of severity moderate, high or critical against a production dependency fails
 * the run unless audit-exceptions.json explains it with a reason and an expiry date that has not
 * passed. Low and info advisories are printed but never fail: they rarely matter for a server and
 * failing on them teaches people to ignore the audit.
 */

export const FAILING_SEVERITIES = Object.freeze(["moderate", "high", "critical"]);
const SEVERITIES = Object.freeze(["info", "low", "moderate", "high", "critical"]);

/** An exception may not be granted for longer than this; explanations must be revisited. */
export const MAX_EXCEPTION_DAYS = 366;
const DAY_MS = 86_400_000;

/**
 * npm prints these for a registry that has no audit endpoint (405/404/501), one that fails (5xx),
 * or no network at all. Anything else that is not a report is a real error and fails the run.
 */
const NETWORK_CODES = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/;

/** Removes `user:password@` from any URL in a message before it is printed. */
export function redactUrls(text) {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, "$1***@");
}

/**
 * Classifies the output of `npm audit --omit=dev --json`.
 *
 * @returns {{ kind: "report", advisories: Advisory[], counts: Record<string, number> }
 *   | { kind: "unavailable", reason: string } | { kind: "error", reason: string }}
 */
export function classifyAuditOutput(stdout, stderr) {
  let parsed;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    const first = `${stdout}\n${stderr}`.trim().split("\n")[0] ?? "";
    return { kind: "error", reason: `npm audit printed no JSON: ${redactUrls(first) || "(no output)"}` };
  }
  if (parsed === null || typeof parsed !== "object") {
    return { kind: "error", reason: "npm audit printed JSON that is not an object" };
  }
  if (
    parsed.auditReportVersion === 2 &&
    parsed.vulnerabilities &&
    typeof parsed.vulnerabilities === "object"
  ) {
    return { kind: "report", advisories: advisoriesOf(parsed.vulnerabilities), counts: countsOf(parsed) };
  }
  if (parsed.auditReportVersion !== undefined) {
    return { kind: "error", reason: `unsupported audit report version ${String(parsed.auditReportVersion)}` };
  }
  const message = typeof parsed.message === "string" ? parsed.message : "";
  const endpointFailed =
    typeof parsed.statusCode === "number" ||
    NETWORK_CODES.test(message) ||
    /advisories\/bulk/.test(message) ||
    /audit endpoint returned an error/.test(stderr);
  if (endpointFailed) {
    return { kind: "unavailable", reason: redactUrls(message || "audit endpoint returned an error") };
  }
  const code = typeof parsed.error?.code === "string" ? `${parsed.error.code}: ` : "";
  const summary = typeof parsed.error?.summary === "string" ? parsed.error.summary : message;
  return { kind: "error", reason: redactUrls(`${code}${summary || "npm audit failed without a report"}`) };
}

/**
 * @typedef {{ id: string, url: string, title: string, severity: string, package: string, range: string }} Advisory
 */

/** The advisories themselves: `via` entries that are objects (strings only name a dependency path). */
function advisoriesOf(vulnerabilities) {
  const byKey = new Map();
  for (const entry of Object.values(vulnerabilities)) {
    for (const via of Array.isArray(entry?.via) ? entry.via : []) {
      if (via === null || typeof via !== "object") continue;
      const advisory = {
        id: String(via.source ?? ""),
        url: typeof via.url === "string" ? via.url : "",
        title: typeof via.title === "string" ? via.title : "",
        severity: SEVERITIES.includes(via.severity) ? via.severity : "critical",
        package: typeof via.name === "string" ? via.name : String(entry.name ?? ""),
        range: typeof via.range === "string" ? via.range : "",
      };
      byKey.set(`${advisory.id}|${advisory.url}|${advisory.package}`, advisory);
    }
  }
  return [...byKey.values()].sort((a, b) => (a.package + a.url).localeCompare(b.package + b.url));
}

function countsOf(report) {
  const counts = report.metadata?.vulnerabilities ?? {};
  return Object.fromEntries(SEVERITIES.map((severity) => [severity, Number(counts[severity] ?? 0)]));
}

/**
 * Validates audit-exceptions.json. Every problem is reported at once so a reviewer fixes the file
 * in one pass.
 *
 * @returns {{ problems: string[], advisories: AdvisoryException[], installScripts: InstallScriptException[] }}
 * @typedef {{ advisory: string, package: string, reason: string, expires: string }} AdvisoryException
 * @typedef {{ package: string, reason: string }} InstallScriptException
 */
export function validateExceptions(json, now) {
  const problems = [];
  const advisories = [];
  const installScripts = [];
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { problems: ["audit-exceptions.json must hold a JSON object"], advisories, installScripts };
  }
  const known = new Set(["$comment", "advisories", "installScripts"]);
  for (const key of Object.keys(json)) {
    if (!known.has(key)) problems.push(`unknown key "${key}" (expected advisories, installScripts)`);
  }
  const list = (key) => {
    const value = json[key] ?? [];
    if (!Array.isArray(value)) {
      problems.push(`"${key}" must be an array`);
      return [];
    }
    return value;
  };
  const text = (entry, where, field) => {
    const value = entry?.[field];
    if (typeof value !== "string" || value.trim() === "") {
      problems.push(`${where}: "${field}" must be a non-empty string`);
      return undefined;
    }
    return value;
  };
  list("advisories").forEach((entry, index) => {
    const where = `advisories[${index}]`;
    const advisory = text(entry, where, "advisory");
    const pkg = text(entry, where, "package");
    const reason = text(entry, where, "reason");
    const expires = text(entry, where, "expires");
    if (expires !== undefined) {
      const at = parseDay(expires);
      if (at === undefined) problems.push(`${where}: "expires" must be a date YYYY-MM-DD, got "${expires}"`);
      else if (at - now.getTime() > MAX_EXCEPTION_DAYS * DAY_MS) {
        problems.push(`${where}: "expires" ${expires} is more than ${MAX_EXCEPTION_DAYS} days away`);
      }
    }
    if (advisory && pkg && reason && expires) advisories.push({ advisory, package: pkg, reason, expires });
  });
  list("installScripts").forEach((entry, index) => {
    const where = `installScripts[${index}]`;
    const pkg = text(entry, where, "package");
    const reason = text(entry, where, "reason");
    if (pkg && reason) installScripts.push({ package: pkg, reason });
  });
  return { problems, advisories, installScripts };
}

/** Midnight UTC after the given day: an exception is valid through its whole expiry day. */
function parseDay(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const at = Date.UTC(year, month - 1, day);
  const check = new Date(at);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return undefined;
  }
  return at + DAY_MS;
}

/** An exception names an advisory by its URL (the GHSA address) or npm's numeric id. */
function matches(exception, advisory) {
  return (
    exception.package === advisory.package &&
    (exception.advisory === advisory.url || exception.advisory === advisory.id)
  );
}

/**
 * Applies the policy to a report.
 *
 * @returns {{ failures: { advisory: Advisory, why: string }[], explained: { advisory: Advisory, exception: AdvisoryException }[],
 *   tolerated: Advisory[], unused: AdvisoryException[] }}
 */
export function decide(advisories, exceptions, now) {
  const failures = [];
  const explained = [];
  const tolerated = [];
  const used = new Set();
  for (const advisory of advisories) {
    const exception = exceptions.find((candidate) => matches(candidate, advisory));
    if (exception) used.add(exception);
    if (exception && (parseDay(exception.expires) ?? 0) <= now.getTime()) {
      failures.push({ advisory, why: `its exception expired on ${exception.expires}` });
    } else if (exception) {
      explained.push({ advisory, exception });
    } else if (FAILING_SEVERITIES.includes(advisory.severity)) {
      failures.push({ advisory, why: "no entry in audit-exceptions.json explains it" });
    } else {
      tolerated.push(advisory);
    }
  }
  return { failures, explained, tolerated, unused: exceptions.filter((exception) => !used.has(exception)) };
}
