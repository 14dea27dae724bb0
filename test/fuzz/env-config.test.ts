import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeConfig, describeSections } from "../../src/config/describe.js";
import { configFromEnv } from "../../src/config/env.js";
import { isLoadedConfig, loadConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";
import { FAMILY_MINIMUM, FUZZ_TIMEOUT, Tally, anyText, holds, scaled } from "./support.js";

/*
 * Fuzzing the `PAVED_…` environment parser (docs/configuration.md): arbitrary variable names (the
 * documented ones in any case, indexes, JSON sections, near misses, prototype names) with arbitrary
 * values. Outcome: a loaded, frozen configuration or a `ConfigError` (ERR_CONFIG_INVALID) whose
 * every issue names its key and, when a variable set it, that variable; never another exception.
 */

const tally = new Tally();
const KEYS = describeConfig();
const SECTIONS = describeSections();

const documentedName = fc.constantFrom(
  ...KEYS.map((key) => key.env),
  ...SECTIONS.map((section) => section.env),
);

/** Names are read case-insensitively: flip each letter's case by one bit of `mask` (cheaper than fc.mixedCase). */
const anyCase = (names: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(names, fc.nat(), fc.boolean()).map(([name, mask, keep]) =>
    keep
      ? name
      : Array.from(name)
          .map((char, at) => ((mask >> (at % 31)) & 1 ? char.toLowerCase() : char))
          .join(""),
  );
const GUIDS = ["72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-0000-0000-000000000001", "not-a-guid"];

/** Variable names: documented (any case), list items by index, near misses and hostile segments. */
const variableName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: anyCase(documentedName) },
  {
    weight: 2,
    arbitrary: fc.tuple(documentedName, fc.nat({ max: 3 })).map(([name, index]) => `${name}__${index}`),
  },
  { weight: 1, arbitrary: documentedName.map((name) => name.slice(0, -1)) },
  { weight: 1, arbitrary: documentedName.map((name) => `${name}X`) },
  { weight: 1, arbitrary: documentedName.map((name) => `${name}__EXTRA`) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("__PROTO__", "CONSTRUCTOR", "TOSTRING", "", "_", "0", "HASOWNPROPERTY", "PROTOTYPE")
      .chain((segment) =>
        fc.constantFrom(
          `PAVED_${segment}`,
          `PAVED_SERVER__${segment}`,
          `PAVED_${segment}__PATH`,
          `PAVED_SERVER__SESSIONS__${segment}`,
        ),
      ),
  },
  { weight: 1, arbitrary: anyText(20).map((rest) => `PAVED_${rest}`) },
);

const URLS = [
  "https://mcp.contoso.com",
  "http://localhost:3000",
  "http://evil.example",
  "https://a.b/c?d#e",
  "ftp://x",
  "https://",
];
const values = new Map<string, fc.Arbitrary<string>>();

/** Values shaped for the variable's key (numbers, booleans, enums, lists, JSON), and arbitrary text. */
const valueFor = (name: string): fc.Arbitrary<string> => {
  const upper = name.toUpperCase();
  let arbitrary = values.get(upper);
  if (arbitrary === undefined) {
    arbitrary = typedValue(upper);
    values.set(upper, arbitrary);
  }
  return arbitrary;
};

function typedValue(name: string): fc.Arbitrary<string> {
  const key = KEYS.find((candidate) => candidate.env === name);
  const typed: fc.Arbitrary<string>[] = [anyText(30)];
  switch (key?.kind) {
    case "number":
      typed.push(
        fc.integer({ min: -10, max: 100_000_000 }).map(String),
        fc.constantFrom("0x10", "1e3", " 5 ", "-1", "NaN", "Infinity", "1.5", "+7", "", "1_000", "0b1", "  "),
      );
      break;
    case "boolean":
      typed.push(anyCase(fc.constantFrom("true", "false", "1", "0", "yes", "no", "on", "off", "y", "")));
      break;
    case "enum":
      typed.push(anyCase(fc.constantFrom(...(key.values ?? []), "")));
      break;
    case "array":
      typed.push(
        fc
          .array(fc.oneof(fc.constantFrom(...URLS, ...GUIDS, "1", "2", "RS256", "*", "")), { maxLength: 3 })
          .map((items) => items.join(",")),
        fc.jsonValue({ maxDepth: 1 }).map((value) => JSON.stringify(value)),
      );
      break;
    case "string":
      typed.push(
        fc.constantFrom(...URLS, ...GUIDS),
        fc.constantFrom("/mcp", "organizations", "common", "redis://127.0.0.1:6379"),
      );
      break;
    default:
      typed.push(fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)));
  }
  return fc.oneof(...typed);
}

/** An environment: a few variables, plus unrelated ones that must be ignored. */
const environment: fc.Arbitrary<Record<string, string>> = fc
  .array(
    variableName.chain((name) => fc.tuple(fc.constant(name), valueFor(name))),
    { maxLength: 4 },
  )
  .map((pairs) => ({ PATH: "/usr/bin", PAVEDX: "ignored", ...Object.fromEntries(pairs) }));

const SOURCES = ["env", "default"];

describe("fuzz: PAVED_ environment parser", () => {
  it(
    "configFromEnv never throws, and every origin and issue names a variable of the environment",
    async () => {
      await holds(
        tally,
        fc.property(environment, (env) => {
          const result = configFromEnv(configSchema, env);
          for (const origin of result.origins.values()) expect(Object.keys(env)).toContain(origin);
          for (const issue of result.issues) {
            expect(issue.source).toBe("env");
            expect(Object.keys(env)).toContain(issue.origin);
            expect(issue.key.length).toBeGreaterThan(0);
          }
          // Nothing reachable from the prototype was written.
          expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
          expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
        }),
        6_000,
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    "loadConfig: a frozen configuration or a ConfigError naming every key and the variable that set it",
    async () => {
      await holds(
        tally,
        fc.asyncProperty(environment, async (env) => {
          let outcome: unknown;
          try {
            outcome = await loadConfig({ file: false, env });
          } catch (error) {
            outcome = error;
          }
          if (!(outcome instanceof Error)) {
            expect(isLoadedConfig(outcome)).toBe(true);
            expect(Object.isFrozen(outcome)).toBe(true);
            return;
          }
          if (!(outcome instanceof ConfigError))
            throw new Error(`not a ConfigError: ${outcome.name}: ${outcome.message}`);
          expect(outcome.code).toBe("ERR_CONFIG_INVALID");
          expect(outcome.issues.length).toBeGreaterThan(0);
          const variables = Object.keys(env).filter((name) => name.toUpperCase().startsWith("PAVED_"));
          for (const issue of outcome.issues) {
            expect(issue.key).not.toBe("");
            expect(SOURCES).toContain(issue.source);
            expect(outcome.message).toContain(issue.key);
            if (issue.source === "env") {
              expect(variables).toContain(issue.origin);
              expect(outcome.message).toContain(`env ${issue.origin ?? ""}`);
            }
          }
          // The defaults alone are valid, so a variable is to blame: one issue names one, or names a
          // required key of a section that a variable brought into being.
          const sections = variables.map((name) => name.slice("PAVED_".length).split("__")[0]?.toLowerCase());
          expect(
            outcome.issues.some(
              (issue) => issue.source === "env" || sections.includes(issue.key.split(".")[0]?.toLowerCase()),
            ),
          ).toBe(true);
        }),
        4_000,
      );
    },
    FUZZ_TIMEOUT,
  );

  it(`ran at least ${FAMILY_MINIMUM} cases`, () => {
    expect(tally.cases).toBeGreaterThanOrEqual(scaled(FAMILY_MINIMUM));
  });
});
