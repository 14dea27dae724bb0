import { X509Certificate, createPrivateKey } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateFromPem, keyWithThumbprint } from "../../../src/downstream/certificate.js";
import {
  CredentialUnavailable,
  firstUsableCredential,
  keyVaultScope,
  plannedCredential,
  tokenExchangeAudience,
} from "../../../src/downstream/credentials.js";
import { createTestTls, type TestTls } from "../../fixtures/entra-emulator.js";

let tls: TestTls;
let other: TestTls;
beforeAll(() => {
  tls = createTestTls("paved-cert-test");
  other = createTestTls("paved-other");
});
afterAll(() => {
  tls.remove();
  other.remove();
});

const INSTANCE = "https://login.microsoftonline.com/";

describe("certificateFromPem", () => {
  it("gives MSAL the SHA-256 thumbprint, a PKCS#8 key and the chain as x5c, in either order", () => {
    const expected = new X509Certificate(tls.cert).fingerprint256.replaceAll(":", "");
    for (const pem of [`${tls.cert}\n${tls.key}`, `${tls.key}\n${tls.cert}`]) {
      const credential = certificateFromPem(pem);
      expect(credential.thumbprintSha256).toBe(expected);
      expect(credential.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
      expect(credential.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(createPrivateKey(credential.privateKey).asymmetricKeyType).toBe("rsa");
      expect(credential.x5c).toBe(tls.cert.trim());
    }
  });

  it("refuses a bundle without a key, without a certificate, with an encrypted key or a foreign key", () => {
    expect(() => certificateFromPem(tls.cert)).toThrow(
      "no PEM private key (-----BEGIN PRIVATE KEY-----) in it",
    );
    expect(() => certificateFromPem(tls.key)).toThrow(
      "no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
    );
    const encrypted = createPrivateKey(tls.key)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
      .toString();
    expect(() => certificateFromPem(`${tls.cert}\n${encrypted}`)).toThrow(
      "the private key is encrypted: store it unencrypted in a secret store",
    );
    expect(() => certificateFromPem(`${tls.cert}\n${other.key}`)).toThrow(
      "the private key does not belong to the certificate",
    );
  });

  it("takes a key with a thumbprint when there is no certificate file", () => {
    const credential = keyWithThumbprint(tls.key, "ab".repeat(32));
    expect(credential).toStrictEqual({
      thumbprintSha256: "AB".repeat(32),
      privateKey: createPrivateKey(tls.key).export({ type: "pkcs8", format: "pem" }).toString(),
    });
  });
});

describe("firstUsableCredential", () => {
  it("skips sources that cannot be used and takes the first that can, as the C# package does", async () => {
    const pem = join(tls.dir, "bundle.pem");
    await writeFile(pem, `${tls.cert}\n${tls.key}`);
    const credential = await firstUsableCredential(
      [
        { sourceType: "SignedAssertionFilePath" },
        { sourceType: "Certificate", certificateDiskPath: join(tls.dir, "missing.pem") },
        { sourceType: "Certificate", certificateDiskPath: pem },
        { sourceType: "ClientSecret", clientSecret: "not-this-one" },
      ],
      { instance: INSTANCE, env: {} },
    );
    expect(credential.kind).toBe("certificate");
    expect(credential.source).toBe("azureAd.clientCredentials[2] (Certificate)");
  });

  it("reports why every source failed, naming keys and paths but no secret", async () => {
    const error = await firstUsableCredential(
      [
        { sourceType: "SignedAssertionFilePath" },
        { sourceType: "Certificate", certificateDiskPath: join(tls.dir, "missing.pem") },
      ],
      { instance: INSTANCE, env: {} },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialUnavailable);
    expect((error as Error).message).toBe(
      `no usable client credential: azureAd.clientCredentials[0] (SignedAssertionFilePath): no signedAssertionFileDiskPath and AZURE_FEDERATED_TOKEN_FILE is not set; azureAd.clientCredentials[1] (Certificate): certificateDiskPath ${join(tls.dir, "missing.pem")} cannot be read (ENOENT)`,
    );
  });

  it("names the missing package when @azure/identity cannot be loaded", async () => {
    const error = await firstUsableCredential(
      [
        {
          sourceType: "SignedAssertionFromManagedIdentity",
          managedIdentityClientId: "99999999-9999-4999-8999-999999999999",
        },
      ],
      {
        instance: INSTANCE,
        loadIdentity: () => Promise.reject(new Error("Cannot find package '@azure/identity'")),
      },
    ).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      "no usable client credential: azureAd.clientCredentials[0] (SignedAssertionFromManagedIdentity) needs the @azure/identity package: npm install @azure/identity",
    );
  });

  it("reads the token file named by AZURE_FEDERATED_TOKEN_FILE on every call, not at start", async () => {
    const file = join(tls.dir, "fic");
    const credential = await firstUsableCredential([{ sourceType: "SignedAssertionFilePath" }], {
      instance: INSTANCE,
      env: { AZURE_FEDERATED_TOKEN_FILE: file },
    });
    expect(credential.kind).toBe("assertion");
    if (credential.kind !== "assertion") return;
    await expect(credential.clientAssertion()).rejects.toThrow(
      `the token file ${file} cannot be read (ENOENT)`,
    );
    await writeFile(file, "fic-token");
    await expect(credential.clientAssertion()).resolves.toBe("fic-token");
  });
});

describe("plannedCredential (what paved start and paved doctor judge)", () => {
  it("skips a token file source with no file, and otherwise takes the first", () => {
    const secret = { sourceType: "ClientSecret", clientSecret: "s" } as const;
    expect(plannedCredential([{ sourceType: "SignedAssertionFilePath" }, secret], {})).toBe(secret);
    expect(
      plannedCredential([{ sourceType: "SignedAssertionFilePath" }, secret], {
        AZURE_FEDERATED_TOKEN_FILE: "/t",
      })?.sourceType,
    ).toBe("SignedAssertionFilePath");
    expect(plannedCredential([], {})).toBeUndefined();
  });
});

describe("cloud-specific names", () => {
  it("picks the token exchange audience of the cloud (OBO-08) and the Key Vault resource of the vault", () => {
    expect(tokenExchangeAudience("https://login.microsoftonline.com/")).toBe("api://AzureADTokenExchange");
    expect(tokenExchangeAudience("https://login.microsoftonline.us/")).toBe(
      "api://AzureADTokenExchangeUSGov",
    );
    expect(tokenExchangeAudience("https://login.chinacloudapi.cn/")).toBe("api://AzureADTokenExchangeChina");
    expect(keyVaultScope("https://contoso.vault.azure.net/")).toBe("https://vault.azure.net/.default");
    expect(keyVaultScope("https://contoso.vault.usgovcloudapi.net/")).toBe(
      "https://vault.usgovcloudapi.net/.default",
    );
    expect(keyVaultScope("https://localhost:8443/")).toBe("https://vault.azure.net/.default");
  });
});
