/** Types for scripts/lib/audit-policy.mjs, so the TypeScript tests can import it. */
export interface Advisory {
  id: string;
  url: string;
  title: string;
  severity: string;
  package: string;
  range: string;
}
export interface AdvisoryException {
  advisory: string;
  package: string;
  reason: string;
  expires: string;
}
export interface InstallScriptException {
  package: string;
  reason: string;
}
export type AuditOutcome =
  | { kind: "report"; advisories: Advisory[]; counts: Record<string, number> }
  | { kind: "unavailable"; reason: string }
  | { kind: "error"; reason: string };
export declare const FAILING_SEVERITIES: readonly string[];
export declare const MAX_EXCEPTION_DAYS: number;
export declare function redactUrls(text: string): string;
export declare function classifyAuditOutput(stdout: string, stderr: string): AuditOutcome;
export declare function validateExceptions(
  json: unknown,
  now: Date,
): { problems: string[]; advisories: AdvisoryException[]; installScripts: InstallScriptException[] };
export declare function decide(
  advisories: Advisory[],
  exceptions: AdvisoryException[],
  now: Date,
): {
  failures: { advisory: Advisory; why: string }[];
  explained: { advisory: Advisory; exception: AdvisoryException }[];
  tolerated: Advisory[];
  unused: AdvisoryException[];
};
