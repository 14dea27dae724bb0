import { describe, expect, it } from "vitest";
import { DownstreamError } from "../../../src/downstream/errors.js";
import { normalizeBase, resolveUnder } from "../../../src/downstream/url.js";

const base = normalizeBase("https://api.contoso.com/v1");

function refusal(pathOrUrl: string): unknown {
  try {
    return resolveUnder(base, pathOrUrl, "contoso").href;
  } catch (error) {
    return error instanceof DownstreamError ? [error.code, error.message] : error;
  }
}

describe("resolveUnder (the SSRF guard of ctx.downstream.fetch)", () => {
  it.each([
    ["/me", "https://api.contoso.com/v1/me"],
    ["me", "https://api.contoso.com/v1/me"],
    ["/users/42?select=name", "https://api.contoso.com/v1/users/42?select=name"],
    ["https://api.contoso.com/v1/me", "https://api.contoso.com/v1/me"],
    ["/me#fragment", "https://api.contoso.com/v1/me"],
    ["/a%2Fb", "https://api.contoso.com/v1/a%2Fb"],
  ])("puts %s under the base", (input, expected) => {
    expect(refusal(input)).toBe(expected);
  });

  it.each([
    "http://[::ffff:169.254.169.254]/",
    "http://169.254.169.254/metadata/identity/oauth2/token",
    "https://api.contoso.com.evil.example/v1/me",
    "https://evil.example/v1/me",
    "http://api.contoso.com/v1/me",
    "https://api.contoso.com:8443/v1/me",
    "https://api.contoso.com/v2/me",
    "https://api.contoso.com/v1",
    "https://user:pw@api.contoso.com/v1/me",
    "//evil.example/v1/me",
    "/../v2/me",
    "/%2e%2e/v2/me",
    "/.%2E/v2/me",
    "/a/./b",
    "/a\\..\\..\\v2",
    "/me\n",
    "file:///etc/passwd",
    "javascript:alert(1)",
  ])("refuses %s", (input) => {
    expect(refusal(input)).toStrictEqual([
      "ERR_DOWNSTREAM_URL_REFUSED",
      'Refused: the URL leaves the downstream API "contoso".',
    ]);
  });

  it("adds the trailing slash a base path needs, so relative paths stay under it", () => {
    expect(normalizeBase("https://api.contoso.com/v1").href).toBe("https://api.contoso.com/v1/");
    expect(normalizeBase("https://api.contoso.com").href).toBe("https://api.contoso.com/");
  });
});
