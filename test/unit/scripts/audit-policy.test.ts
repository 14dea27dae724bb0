/**
 * The decisions of `npm run audit` (scripts/lib/audit-policy.mjs) on `npm audit --json` output
 * recorded from npm 11: the registry mirror's 405, a refused connection, a 500, and a report npm
 * produced against a loopback advisory endpoint serving one synthetic moderate advisory for `ms`.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  classifyAuditOutput,
  decide,
  redactUrls,
  validateExceptions,
  type Advisory,
  type AdvisoryException,
} from "../../../scripts/lib/audit-policy.mjs";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const NPM_STDERR = "npm error audit endpoint returned an error\n";
const NOW = new Date("2026-11-27T12:00:00Z");
const URL_1 = "https://example.test/advisories/PAVED-TEST-0001";

function recordedReport(): Advisory[] {
  const outcome = classifyAuditOutput(fixture("audit-report-moderate.json"), "");
  if (outcome.kind !== "report") throw new Error(`expected a report, got ${outcome.kind}`);
  return outcome.advisories;
}

function exception(overrides: Partial<AdvisoryException> = {}): AdvisoryException {
  return {
    advisory: URL_1,
    package: "ms",
    reason: "only parses our own constants",
    expires: "2027-01-31",
    ...overrides,
  };
}

describe("classifyAuditOutput", () => {
  it("reads the advisory out of a recorded report, once, at the package it affects", () => {
    const outcome = classifyAuditOutput(fixture("audit-report-moderate.json"), "");
    expect(outcome).toEqual({
      kind: "report",
      advisories: [
        {
          id: "9000001",
          url: URL_1,
          title: "Synthetic advisory recorded for the audit tests",
          severity: "moderate",
          package: "ms",
          range: "<=2.1.3",
        },
      ],
      counts: { info: 0, low: 0, moderate: 3, high: 0, critical: 0 },
    });
  });

  it("reads a clean report as no advisories", () => {
    const clean = JSON.parse(fixture("audit-report-moderate.json"));
    clean.vulnerabilities = {};
    const outcome = classifyAuditOutput(JSON.stringify(clean), "");
    expect(outcome.kind === "report" && outcome.advisories).toEqual([]);
  });

  it.each([
    ["audit-endpoint-405.json", /^405 Method Not Allowed - POST https:\/\/registry\.npmjs\.org\//],
    ["audit-endpoint-500.json", /^500 Internal Server Error/],
    ["audit-endpoint-refused.json", /ECONNREFUSED/],
  ])("calls the endpoint failure in %s 'could not run', with npm's reason", (name, reason) => {
    const outcome = classifyAuditOutput(fixture(name), NPM_STDERR);
    expect(outcome.kind).toBe("unavailable");
    expect(outcome.kind === "unavailable" && outcome.reason).toMatch(reason);
  });

  it("calls every other failure an error, never 'could not run'", () => {
    const noLockfile = JSON.stringify({
      error: { code: "ENOLOCK", summary: "This command requires an existing lockfile.", detail: "" },
    });
    expect(classifyAuditOutput(noLockfile, "npm error code ENOLOCK\n")).toEqual({
      kind: "error",
      reason: "ENOLOCK: This command requires an existing lockfile.",
    });
    expect(classifyAuditOutput("", "npm error something broke\n").kind).toBe("error");
    expect(classifyAuditOutput("null", "").kind).toBe("error");
    expect(classifyAuditOutput(JSON.stringify({ auditReportVersion: 3, vulnerabilities: {} }), "").kind).toBe(
      "error",
    );
  });

  it("treats an advisory with an unknown severity as critical", () => {
    const report = JSON.parse(fixture("audit-report-moderate.json"));
    report.vulnerabilities.ms.via[0].severity = "apocalyptic";
    const outcome = classifyAuditOutput(JSON.stringify(report), "");
    expect(outcome.kind === "report" && outcome.advisories[0]?.severity).toBe("critical");
  });

  it("strips credentials from URLs in the reasons it prints", () => {
    expect(redactUrls("401 - POST https://bob:s3cret@mirror.example/-/npm/v1/security/advisories/bulk")).toBe(
      "401 - POST https://***@mirror.example/-/npm/v1/security/advisories/bulk",
    );
  });
});

describe("decide", () => {
  it("passes a finding that an unexpired exception explains", () => {
    const verdict = decide(recordedReport(), [exception()], NOW);
    expect(verdict.failures).toEqual([]);
    expect(verdict.explained.map((entry) => entry.advisory.url)).toEqual([URL_1]);
  });

  it("also matches an exception by npm's numeric advisory id", () => {
    expect(decide(recordedReport(), [exception({ advisory: "9000001" })], NOW).failures).toEqual([]);
  });

  it("fails an unexplained moderate finding", () => {
    const verdict = decide(recordedReport(), [], NOW);
    expect(verdict.failures).toEqual([
      {
        advisory: expect.objectContaining({ url: URL_1 }),
        why: "no entry in audit-exceptions.json explains it",
      },
    ]);
  });

  it("fails a finding whose exception names another package", () => {
    expect(decide(recordedReport(), [exception({ package: "jose" })], NOW).failures).toHaveLength(1);
  });

  it("fails a finding whose exception has expired, and keeps it valid through its expiry day", () => {
    const lastDay = exception({ expires: "2026-11-27" });
    expect(decide(recordedReport(), [lastDay], NOW).failures).toEqual([]);
    const expired = exception({ expires: "2026-11-26" });
    expect(decide(recordedReport(), [expired], NOW).failures).toEqual([
      { advisory: expect.objectContaining({ url: URL_1 }), why: "its exception expired on 2026-11-26" },
    ]);
  });

  it.each(["high", "critical"])("fails an unexplained %s finding", (severity) => {
    const advisories = recordedReport().map((advisory) => ({ ...advisory, severity }));
    expect(decide(advisories, [], NOW).failures).toHaveLength(1);
  });

  it.each(["low", "info"])("reports but does not fail an unexplained %s finding", (severity) => {
    const advisories = recordedReport().map((advisory) => ({ ...advisory, severity }));
    const verdict = decide(advisories, [], NOW);
    expect(verdict.failures).toEqual([]);
    expect(verdict.tolerated).toHaveLength(1);
  });

  it("lists exceptions that no longer match anything", () => {
    const stale = exception({ advisory: "https://example.test/advisories/FIXED" });
    expect(decide(recordedReport(), [exception(), stale], NOW).unused).toEqual([stale]);
  });
});

describe("validateExceptions", () => {
  it("accepts the committed audit-exceptions.json", () => {
    const committed = JSON.parse(
      readFileSync(new URL("../../../audit-exceptions.json", import.meta.url), "utf8"),
    );
    expect(validateExceptions(committed, new Date()).problems).toEqual([]);
  });

  it("accepts a complete entry", () => {
    const result = validateExceptions(
      { advisories: [exception()], installScripts: [{ package: "x", reason: "builds a native addon" }] },
      NOW,
    );
    expect(result).toEqual({
      problems: [],
      advisories: [exception()],
      installScripts: [{ package: "x", reason: "builds a native addon" }],
    });
  });

  it("reports every problem at once", () => {
    const result = validateExceptions(
      {
        advisory: [],
        advisories: [
          { advisory: URL_1, package: "ms", reason: " ", expires: "2027-01-31" },
          { advisory: URL_1, package: "ms", reason: "r", expires: "31/01/2027" },
          { advisory: URL_1, package: "ms", reason: "r", expires: "2027-02-30" },
          { advisory: URL_1, package: "ms", reason: "r", expires: "2030-01-01" },
        ],
        installScripts: { package: "x" },
      },
      NOW,
    );
    expect(result.problems).toEqual([
      'unknown key "advisory" (expected advisories, installScripts)',
      'advisories[0]: "reason" must be a non-empty string',
      'advisories[1]: "expires" must be a date YYYY-MM-DD, got "31/01/2027"',
      'advisories[2]: "expires" must be a date YYYY-MM-DD, got "2027-02-30"',
      'advisories[3]: "expires" 2030-01-01 is more than 366 days away',
      '"installScripts" must be an array',
    ]);
    expect(result.advisories).toHaveLength(3);
  });

  it("refuses a file that is not an object", () => {
    expect(validateExceptions([], NOW).problems).toEqual(["audit-exceptions.json must hold a JSON object"]);
  });
});
