import fc from "fast-check";
import type { InboundRequest } from "../../src/http/exchange.js";

/**
 * Fuzzing knobs. `FUZZ_SEED` replays a run (every property of a run uses the same seed, so the
 * seed printed by `npm run fuzz` or by a failing property is all it takes); `FUZZ_RUNS` multiplies
 * every property's base run count (the bases give each parser family at least 10 000 cases).
 */
export const FUZZ_SEED = Number.parseInt(process.env["FUZZ_SEED"] ?? "20261127", 10);
export const FUZZ_RUNS = Number(process.env["FUZZ_RUNS"] ?? "1");
if (!Number.isSafeInteger(FUZZ_SEED)) throw new TypeError("FUZZ_SEED must be an integer");
if (!(FUZZ_RUNS > 0)) throw new TypeError("FUZZ_RUNS must be a positive number (a multiplier)");

/** A safety net for one property on a loaded machine (not a performance assertion). */
export const FUZZ_TIMEOUT = Math.round(120_000 * Math.max(1, FUZZ_RUNS));

/** The cases each parser family runs in total, at `FUZZ_RUNS=1`. */
export const FAMILY_MINIMUM = 10_000;

export const scaled = (base: number): number => Math.max(1, Math.round(base * FUZZ_RUNS));

/** Counts the cases a parser family's properties actually ran (skipped cases excluded). */
export class Tally {
  private total = 0;
  get cases(): number {
    return this.total;
  }
  add(cases: number): void {
    this.total += cases;
  }
}

/**
 * Runs `property` with the fixed seed and `base × FUZZ_RUNS` cases, adds what ran to `tally`, and
 * throws fast-check's report (counterexample, seed, path) when it fails.
 */
export async function holds<T>(
  tally: Tally,
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  base: number,
): Promise<void> {
  const details = await fc.check(property as fc.IAsyncProperty<T>, {
    seed: FUZZ_SEED,
    numRuns: scaled(base),
  });
  tally.add(details.numRuns);
  if (details.failed) throw new Error(report(details));
}

/** fast-check's report (counterexample, seed, path to replay) plus what the property threw. */
function report<T>(details: fc.RunDetails<T>): string {
  const cause =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return `${fc.defaultReportMessage(details) ?? "property failed"}\nFailure: ${cause}`;
}

/** What `fc.check` found with the fixed seed, for the suite that proves the properties can fail. */
export async function findsCounterexample<T>(
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  base: number,
): Promise<{ failed: boolean; counterexample: unknown }> {
  const details = await fc.check(property as fc.IAsyncProperty<T>, {
    seed: FUZZ_SEED,
    numRuns: scaled(base),
  });
  return { failed: details.failed, counterexample: details.counterexample };
}

export interface FakeRequestInit {
  readonly method?: string;
  /** Header name (any case) and raw value; a name may repeat. Values are NOT trimmed. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly search?: string;
  readonly body?: string;
}

/**
 * An `InboundRequest` with exactly the given raw header values: direct calls reach the parsers with
 * bytes a web `Request` would refuse or trim (control characters, leading and trailing blanks).
 */
export function fakeRequest(init: FakeRequestInit = {}): InboundRequest {
  const headers = init.headers ?? [];
  const values = (name: string): string[] =>
    headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
  return {
    method: (init.method ?? "POST").toUpperCase(),
    path: "/mcp",
    search: init.search ?? "",
    scheme: "http",
    header(name) {
      const found = values(name);
      return found.length === 0 ? undefined : found.join(", ");
    },
    headerValues: values,
    remoteAddress: "127.0.0.1",
    readBody: () => Promise.resolve({ ok: true, text: init.body ?? "" }),
    signal: new AbortController().signal,
    onClientGone: () => undefined,
    toWebRequest() {
      throw new Error("fakeRequest: not a web request");
    },
  };
}

/** Whether a web `Headers` object takes this value (a ByteString without NUL, CR or LF). */
export function isHeaderValue(value: string): boolean {
  return !/[\0\r\n]/.test(value) && Array.from(value).every((char) => char.charCodeAt(0) <= 0xff);
}

/** What a web `Headers` object stores for a value: surrounding tabs and spaces are dropped. */
export const normalizedHeaderValue = (value: string): string => value.replace(/^[\t ]+|[\t ]+$/g, "");

/** Strings biased towards what parsers trip on: blanks, controls, separators, quotes, non-ASCII. */
export const nastyChar = fc.constantFrom(
  " ",
  "\t",
  "\0",
  "\r",
  "\n",
  "\x7f",
  ",",
  ";",
  "=",
  '"',
  "\\",
  ":",
  "@",
  "/",
  ".",
  "[",
  "]",
  "%",
  "é",
  "\u00a0",
  "\u200b",
  "\ufeff",
  "𝔘",
);

/** Arbitrary text: printable ASCII, full Unicode and nasty characters mixed. */
export const anyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), nastyChar), maxLength }),
  );

/** One JSON-RPC rejection body as `docs/pipeline.md` defines it ("Rejection bodies"). */
export interface RejectionBody {
  readonly jsonrpc: "2.0";
  readonly id: string | number | null;
  readonly error: {
    readonly code: number;
    readonly message: string;
    readonly data: { readonly reason: string };
  };
}

/**
 * Checks the documented rejection shape and returns the body; throws (with the reason) otherwise.
 * `codes` and `reasons` are the documented sets for the stage under test.
 */
export function assertRejectionBody(
  text: string,
  options: { readonly codes: readonly number[]; readonly reasons: readonly string[] },
): RejectionBody {
  const body = JSON.parse(text) as Partial<RejectionBody> | null;
  const problem = (what: string): Error => new Error(`rejection body ${what}: ${text.slice(0, 300)}`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw problem("is not an object");
  if (body.jsonrpc !== "2.0") throw problem('has no jsonrpc "2.0"');
  if (!(body.id === null || typeof body.id === "string" || typeof body.id === "number"))
    throw problem("has an id that is not null, a string or a number");
  const error = body.error;
  if (typeof error !== "object" || typeof error.message !== "string") throw problem("has no error.message");
  if (!options.codes.includes(error.code)) throw problem(`has an undocumented code ${String(error.code)}`);
  const reason = (error.data as { reason?: unknown } | undefined)?.reason;
  if (typeof reason !== "string" || !options.reasons.includes(reason))
    throw problem(`has an undocumented data.reason ${String(reason)}`);
  return body as RejectionBody;
}
