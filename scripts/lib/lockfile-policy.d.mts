/** Types for scripts/lib/lockfile-policy.mjs, so the TypeScript tests can import it. */
export declare function checkLockfile(
  manifest: Record<string, unknown>,
  lock: unknown,
  options: { registry: string; installScripts: { package: string; reason: string }[] },
): { problems: string[]; production: string[]; installScriptsExplained: string[] };
