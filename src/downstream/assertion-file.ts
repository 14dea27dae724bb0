import { readFile, stat } from "node:fs/promises";

/** azure-identity re-reads the projected token after five minutes (OBO-09); kubelet rotates it well before expiry. */
export const ASSERTION_FILE_MAX_AGE_MS = 5 * 60_000;

export interface AssertionFileOptions {
  /** Re-read the file once its cached content is this old. Default five minutes. */
  readonly maxAgeMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A workload identity token file (`AZURE_FEDERATED_TOKEN_FILE`), read as the client assertion. The
 * content is cached, and read again when it is `maxAgeMs` old or the file changed (its mtime: kubelet
 * swaps in a new file), so each acquisition costs one `stat`, not a read.
 */
export class AssertionFile {
  readonly path: string;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private cached: { readonly value: string; readonly readAt: number; readonly mtimeMs: number } | undefined;

  constructor(path: string, options: AssertionFileOptions = {}) {
    this.path = path;
    this.maxAgeMs = options.maxAgeMs ?? ASSERTION_FILE_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The current assertion. Throws an `Error` naming the file (never its content) when it cannot. */
  async read(): Promise<string> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.path)).mtimeMs;
    } catch (error) {
      throw new Error(`the token file ${this.path} cannot be read (${codeOf(error)})`, { cause: error });
    }
    const cached = this.cached;
    const now = this.now();
    if (cached !== undefined && cached.mtimeMs === mtimeMs && now - cached.readAt < this.maxAgeMs)
      return cached.value;
    let value: string;
    try {
      value = (await readFile(this.path, "utf8")).trim();
    } catch (error) {
      throw new Error(`the token file ${this.path} cannot be read (${codeOf(error)})`, { cause: error });
    }
    if (value === "") {
      this.cached = undefined;
      throw new Error(`the token file ${this.path} is empty`);
    }
    this.cached = { value, readAt: now, mtimeMs };
    return value;
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
