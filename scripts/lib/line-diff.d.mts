/** Types for scripts/lib/line-diff.mjs, so the TypeScript tests can import it. */
export declare function lineDiff(before: string, after: string, context?: number): string;
