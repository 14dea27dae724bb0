/**
 * Every error Paved raises carries a stable `code` (never reworded once shipped) and, where it maps to
 * an HTTP answer, a `status`. Messages never contain a token, a secret or a full claim set.
 */
export type PavedErrorCode =
  | "ERR_CONFIG_INVALID"
  | "ERR_CONFIG_FILE"
  | "ERR_HOST_OPTIONS"
  | "ERR_TOOL_DEFINITION"
  | "ERR_TOOL_DISCOVERY"
  | "ERR_ENTRY_INVALID"
  | "ERR_UNSAFE_START"
  | "ERR_HOST_CLOSED"
  | "ERR_SDK_CONTEXT";

export class PavedError extends Error {
  readonly code: PavedErrorCode;
  /** HTTP status when the error reaches a client; 500 for start-up and programming errors. */
  readonly status: number;

  constructor(code: PavedErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options?.status ?? 500;
  }
}

/** Where a configuration value came from, later sources winning: defaults < file < env < code. */
export type ConfigSource = "default" | "file" | "env" | "code";

export interface ConfigIssue {
  /** Dotted key, e.g. `server.maxBodyBytes`. */
  readonly key: string;
  readonly source: ConfigSource;
  /** Where exactly: the file path or the environment variable name, when known. */
  readonly origin?: string;
  /** What was expected, in words. */
  readonly expected: string;
}

/** A configuration value failed validation at start-up. The message lists every issue, one a line. */
export class ConfigError extends PavedError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super("ERR_CONFIG_INVALID", ConfigError.format(issues), options);
    this.issues = issues;
  }

  static format(issues: readonly ConfigIssue[]): string {
    const lines = issues.map((issue) => {
      const where = issue.origin === undefined ? issue.source : `${issue.source} ${issue.origin}`;
      return `  - ${issue.key} (from ${where}): ${issue.expected}`;
    });
    return `Invalid Paved configuration:\n${lines.join("\n")}`;
  }
}

/**
 * Throw from a tool handler to give the client a tool error (`isError: true`) with exactly this
 * message. Any other thrown value becomes a generic message: internals never reach the client.
 *
 * @example
 * if (!city) throw new ToolError("Tell me which city.");
 */
export class ToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ToolError";
  }
}
