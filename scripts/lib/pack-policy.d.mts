/** Types for scripts/lib/pack-policy.mjs, so the TypeScript tests can import it. */
export declare function checkPackedPaths(paths: string[]): { path: string; why: string }[];
