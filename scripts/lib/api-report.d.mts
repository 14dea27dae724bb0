/** Types for scripts/lib/api-report.mjs, so the TypeScript tests can import it. */
export declare function entryPoints(packageRoot: string): { name: string; types: string; runtime: string }[];
export declare function renderApiReport(packageRoot: string): Promise<string>;
export declare function newerThanBuild(packageRoot: string): string[];
