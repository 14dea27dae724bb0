import { X509Certificate, createPrivateKey } from "node:crypto";

/** What MSAL needs to sign its client assertion with a certificate (OBO-10: SHA-256 thumbprint, PEM key, x5c). */
export interface CertificateCredential {
  readonly thumbprintSha256: string;
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** The certificate chain as PEM, sent as `x5c` (subject name / issuer authentication). */
  readonly x5c?: string;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PRIVATE_KEY =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * Reads a PEM bundle (certificate chain and, unless `keyPem` is given, the private key). Throws an
 * `Error` whose message names what is wrong, never the key material.
 */
export function certificateFromPem(pem: string, keyPem?: string): CertificateCredential {
  const certificates = pem.match(CERTIFICATE) ?? [];
  const leafPem = certificates[0];
  if (leafPem === undefined) throw new Error("no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
  const keyText = (keyPem ?? pem).match(PRIVATE_KEY)?.[0];
  if (keyText === undefined) throw new Error("no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
  if (keyText.includes("ENCRYPTED"))
    throw new Error("the private key is encrypted: store it unencrypted in a secret store");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafPem);
  } catch {
    throw new Error("the certificate is not valid PEM X.509");
  }
  const key = privateKeyOf(keyText);
  if (!leaf.checkPrivateKey(key)) throw new Error("the private key does not belong to the certificate");
  return {
    thumbprintSha256: leaf.fingerprint256.replaceAll(":", ""),
    privateKey: key.export({ type: "pkcs8", format: "pem" }).toString(),
    x5c: certificates.join("\n"),
  };
}

/** A private key alone, with the certificate known only by its thumbprint. */
export function keyWithThumbprint(keyPem: string, thumbprintSha256: string): CertificateCredential {
  const keyText = keyPem.match(PRIVATE_KEY)?.[0];
  if (keyText === undefined) throw new Error("no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
  if (keyText.includes("ENCRYPTED"))
    throw new Error("the private key is encrypted: store it unencrypted in a secret store");
  return {
    thumbprintSha256: thumbprintSha256.toUpperCase(),
    privateKey: privateKeyOf(keyText).export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function privateKeyOf(text: string): ReturnType<typeof createPrivateKey> {
  try {
    return createPrivateKey(text);
  } catch {
    throw new Error("the private key is not valid PEM");
  }
}
