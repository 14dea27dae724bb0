import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { createDevIdentityProvider } from "paved-mcp/dev";
import { onCleanup, tempStateDir } from "./support.js";

describe("persistent state", () => {
  it("reuses the signing key and the client secret across restarts: tokens minted before still verify", async () => {
    const stateDir = await tempStateDir();
    const first = await createDevIdentityProvider({ stateDir });
    const before = await first.mintToken();
    const client = first.confidentialClient;
    await first.close();

    const second = await createDevIdentityProvider({ stateDir });
    onCleanup(() => second.close());
    expect(second.confidentialClient).toEqual(client);
    const keys = (await (
      await fetch(`${second.url}/${second.tenantId}/discovery/v2.0/keys`)
    ).json()) as JSONWebKeySet;
    expect(keys.keys.map((key) => key.kid)).toEqual([decodeProtectedHeader(before).kid]);
    await expect(jwtVerify(before, createLocalJWKSet(keys))).resolves.toBeDefined();
  });

  it.skipIf(process.platform === "win32")("creates the directory 0700 and every file 0600", async () => {
    const stateDir = await tempStateDir();
    const provider = await createDevIdentityProvider({ stateDir });
    onCleanup(() => provider.close());
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    const files = await readdir(stateDir);
    expect(files.sort()).toEqual(["dev-idp-client.json", "dev-idp-signing-key.json", "dev-idp.json"]);
    for (const file of files) expect((await stat(join(stateDir, file))).mode & 0o777, file).toBe(0o600);
  });

  it("never publishes the private key", async () => {
    const provider = await createDevIdentityProvider({ stateDir: await tempStateDir() });
    onCleanup(() => provider.close());
    const keys = (await (
      await fetch(`${provider.url}/${provider.tenantId}/discovery/keys`)
    ).json()) as JSONWebKeySet;
    expect(Object.keys(keys.keys[0]!).sort()).toEqual(["e", "issuer", "kid", "kty", "n", "use"]);
  });

  it("reports a corrupt key file with ERR_CONFIG_FILE and its path", async () => {
    const stateDir = await tempStateDir();
    const provider = await createDevIdentityProvider({ stateDir });
    await provider.close();
    await writeFile(join(stateDir, "dev-idp-signing-key.json"), "{not json");
    await expect(createDevIdentityProvider({ stateDir })).rejects.toMatchObject({
      code: "ERR_CONFIG_FILE",
      message: expect.stringContaining("dev-idp-signing-key.json"),
    });
  });
});
