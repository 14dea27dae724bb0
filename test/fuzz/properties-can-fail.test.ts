import { describe, expect, it } from "vitest";
import type { EdgeGuardOptions } from "../../src/http/edge-guard.js";
import { hostnameOf } from "../../src/http/loopback.js";
import { brokenEdgeGuard, brokenExtractBearer, brokenInspectJwt } from "../fixtures/broken-parsers.js";
import {
  bearerAgreesWithReference,
  edgeAgreesWithReference,
  inspectAgreesWithReference,
} from "./properties.js";
import { findsCounterexample } from "./support.js";

/*
 * The fuzz properties can fail: the SAME property functions the suites run against Paved's parsers
 * (test/fuzz/properties.ts), with the same fixed seed and the same run counts, find a counterexample
 * in each deliberately broken parser of test/fixtures/broken-parsers.ts, and the counterexample shows
 * the planted bug itself. (The real parsers pass these properties in authorization-header,
 * origin-host and jwt.test.ts.)
 */

describe("fuzz properties find planted bugs", () => {
  it("Bearer extraction: a parser that trims the credentials is caught", async () => {
    const found = await findsCounterexample(bearerAgreesWithReference(brokenExtractBearer), 6_000);
    expect(found.failed).toBe(true);
    // e.g. `Bearer \tA`: blanks left inside the credentials, which the trimming parser dropped.
    const [{ values }] = found.counterexample as [{ values: string[] }];
    expect(values.some((value) => /\s/.test(value.replace(/^bearer +/i, "")))).toBe(true);
  });

  it("Host check: a case-insensitive suffix match is caught", async () => {
    const found = await findsCounterexample(edgeAgreesWithReference(brokenEdgeGuard), 7_000);
    expect(found.failed).toBe(true);
    // e.g. `evilkestrel.example` against an allow-list holding `kestrel.example`.
    const [{ options, host }] = found.counterexample as [{ options: EdgeGuardOptions; host: string }];
    const name = hostnameOf(host) ?? "";
    const allowed = [...(options.allowedHosts ?? [])];
    expect(allowed).not.toContain(name);
    expect(allowed.some((suffix) => name.endsWith(suffix))).toBe(true);
  });

  it("JWT shape checks: a validator that ignores crit is caught", async () => {
    const found = await findsCounterexample(inspectAgreesWithReference(brokenInspectJwt), 6_000);
    expect(found.failed).toBe(true);
    const [token] = found.counterexample as [string];
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as object;
    expect(header).toHaveProperty("crit");
  });
});
