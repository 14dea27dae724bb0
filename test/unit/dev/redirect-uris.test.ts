import { describe, expect, it } from "vitest";
import { isClientMetadataUrl } from "../../../src/dev/client-metadata.js";
import { isAllowedRedirectUri, redirectMatches } from "../../../src/dev/redirect-uris.js";

describe("redirect URIs", () => {
  it("allows https anywhere and http only on loopback, never with a fragment or user info", () => {
    for (const uri of [
      "https://app.test/cb",
      "http://127.0.0.1:3000/cb",
      "http://localhost/cb",
      "http://[::1]:9/cb",
    ])
      expect(isAllowedRedirectUri(uri), uri).toBe(true);
    for (const uri of [
      "http://app.test/cb",
      "https://app.test/cb#x",
      "https://user@app.test/cb",
      "vscode://cb",
      "javascript:alert(1)",
      "not a url",
    ]) {
      expect(isAllowedRedirectUri(uri), uri).toBe(false);
    }
  });

  it("matches exactly, except the port of a loopback http URI (RFC 8252 §7.3)", () => {
    expect(redirectMatches("https://app.test/cb", "https://app.test/cb")).toBe(true);
    expect(redirectMatches("https://app.test/cb", "https://app.test/cb/")).toBe(false);
    expect(redirectMatches("https://app.test:443/cb", "https://app.test:8443/cb")).toBe(false);
    expect(redirectMatches("http://127.0.0.1:3000/cb", "http://127.0.0.1:51234/cb")).toBe(true);
    expect(redirectMatches("http://127.0.0.1:3000/cb", "http://127.0.0.1:51234/other")).toBe(false);
    expect(redirectMatches("http://127.0.0.1/cb", "http://localhost/cb")).toBe(false);
  });
});

describe("client ID metadata document URLs", () => {
  it("are https URLs with a path (http on loopback), without fragment, user info or dot segments", () => {
    for (const url of ["https://client.test/oauth/client.json", "http://127.0.0.1:4000/client.json"])
      expect(isClientMetadataUrl(url), url).toBe(true);
    for (const url of [
      "https://client.test/",
      "https://client.test",
      "http://client.test/c.json",
      "https://client.test/a/../c.json",
      "https://u@client.test/c.json",
      "https://client.test/c.json#f",
      "2f8b...",
    ]) {
      expect(isClientMetadataUrl(url), url).toBe(false);
    }
  });
});
