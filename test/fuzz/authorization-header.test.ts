import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractBearer } from "../../src/auth/bearer.js";
import { bearerChallenge } from "../../src/auth/challenge.js";
import { createTestHost, type TestHost } from "../../src/testing/index.js";
import { MCP_HEADERS, rpc } from "../fixtures/hosts.js";
import {
  BEARER_DESCRIPTIONS,
  CHALLENGE_ERRORS,
  authorizationValue,
  bearerAgreesWithReference,
  parseChallenge,
  referenceBearer,
} from "./properties.js";
import {
  FAMILY_MINIMUM,
  Tally,
  anyText,
  holds,
  isHeaderValue,
  normalizedHeaderValue,
  scaled,
} from "./support.js";

/*
 * Fuzzing the `Authorization` header (RFC 6750 §2.1) and the `WWW-Authenticate` challenge (§3):
 * the extractor against a reference written from the RFC, the challenge against the RFC grammar,
 * and the whole pipeline (stage 5, the real Entra validator of the test host) over `host.fetch`:
 * never a 5xx, always 400/401 with the OAuth body and a well-formed challenge.
 */

const tally = new Tally();

describe("fuzz: Authorization header and Bearer challenge", () => {
  it("extractBearer agrees with the RFC 6750 reference on every header and query", async () => {
    await holds(tally, bearerAgreesWithReference(extractBearer), 6_000);
  });

  it("bearerChallenge always produces a valid RFC 6750 challenge carrying exactly what it was given", async () => {
    const params = fc.record(
      {
        error: fc.constantFrom("invalid_request", "invalid_token", "insufficient_scope"),
        description: anyText(60),
        scope: fc.array(anyText(20), { maxLength: 4 }),
        resourceMetadata: fc.oneof(fc.webUrl(), anyText(60)),
      },
      { requiredKeys: [] },
    );
    await holds(
      tally,
      fc.property(params, (input) => {
        const challenge = bearerChallenge(input);
        const parsed = parseChallenge(challenge);
        if (typeof parsed === "string") throw new Error(`invalid challenge (${parsed}): ${challenge}`);
        expect(parsed.get("error")).toBe(input.error);
        expect(parsed.has("error_description")).toBe(input.description !== undefined);
        expect(parsed.has("scope")).toBe(input.scope !== undefined && input.scope.length > 0);
        expect(parsed.has("resource_metadata")).toBe(input.resourceMetadata !== undefined);
        // Values that need no cleaning arrive verbatim.
        const verbatim = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
        if (input.resourceMetadata !== undefined && verbatim.test(input.resourceMetadata))
          expect(parsed.get("resource_metadata")).toBe(input.resourceMetadata);
        if (input.description !== undefined && verbatim.test(input.description))
          expect(parsed.get("error_description")).toBe(input.description);
      }),
      3_000,
    );
  });

  describe("end to end: stage 5 of a real host (Entra validator, in-process authority)", () => {
    let host: TestHost;
    const PRM = "http://localhost/.well-known/oauth-protected-resource/mcp";
    beforeAll(() => {
      // The pre-auth limiter would (correctly) start answering 429 part way through a long run.
      host = createTestHost({
        config: {
          server: { maxRequestsPerMinutePerClientAddress: 0 },
          telemetry: { auditLog: "off" },
        },
      });
    });
    afterAll(async () => {
      await host.close();
    });

    it("any Authorization header → 400/401 with the OAuth body and a challenge, as the reference classifies it", async () => {
      const input = fc.record({
        value: fc.option(authorizationValue.filter(isHeaderValue), { nil: undefined, freq: 20 }),
        query: fc.constantFrom("", "", "", "?access_token=abc", "?a=b"),
      });
      await holds(
        tally,
        fc.asyncProperty(input, async ({ value, query }) => {
          const headers: Record<string, string> = { ...MCP_HEADERS };
          if (value !== undefined) headers["authorization"] = value;
          const response = await host.fetch(
            new Request(`http://localhost/mcp${query}`, { method: "POST", headers, body: rpc("tools/list") }),
          );
          const seen = value === undefined ? [] : [normalizedHeaderValue(value)];
          const expected = referenceBearer(seen, query).kind;
          const status = response.status;
          const body = (await response.json()) as { error?: unknown; error_description?: unknown };
          expect(status).toBe(expected === "invalid_request" ? 400 : 401);
          const challenge = response.headers.get("www-authenticate");
          if (challenge === null) throw new Error(`${status} without WWW-Authenticate`);
          const parsed = parseChallenge(challenge);
          if (typeof parsed === "string") throw new Error(`invalid challenge (${parsed}): ${challenge}`);
          expect(parsed.get("resource_metadata")).toBe(PRM);
          expect(parsed.has("scope")).toBe(true);
          expect(parsed.get("error")).toBe(
            expected === "missing"
              ? undefined
              : expected === "invalid_request"
                ? "invalid_request"
                : "invalid_token",
          );
          expect(body.error).toBe(parsed.get("error") ?? "unauthorized");
          expect(body.error_description).toBe(parsed.get("error_description") ?? "Authentication required");
          if (expected === "invalid_request") expect(BEARER_DESCRIPTIONS).toContain(body.error_description);
          expect(CHALLENGE_ERRORS).toContain(parsed.get("error") ?? "invalid_token");
        }),
        1_200,
      );
    });
  });

  it(`ran at least ${FAMILY_MINIMUM} cases`, () => {
    expect(tally.cases).toBeGreaterThanOrEqual(scaled(FAMILY_MINIMUM));
  });
});
