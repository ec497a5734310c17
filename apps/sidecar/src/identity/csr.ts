// A fresh key pair and a CSR naming the sidecar's SPIFFE ID. The key is exportable because the TLS stack (mTLS,
// issue 4) takes PEM; it stays in memory and is never written anywhere.
import { ECDSA_P256, x509, type CryptoKeyPair } from "./x509.ts";

export type KeyAndCsr = { keyPem: string; csrPem: string; publicKeyDer: Buffer };

export async function createKeyAndCsr(spiffeId: string): Promise<KeyAndCsr> {
  const keys = (await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }])],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const spki = Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey));
  return { keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"), csrPem: csr.toString("pem"), publicKeyDer: spki };
}
