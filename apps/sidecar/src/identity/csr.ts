// A fresh key pair and a CSR naming the sidecar's SPIFFE ID. The key is exportable because the TLS stack (mTLS,
// issue 4) takes PEM; it stays in memory and is never written anywhere. The PKCS#10 request is written by hand with
// node:crypto (one fixed shape: empty subject, P-256 key, a URI SAN, ECDSA with SHA-256): an X.509 library here cost
// every sidecar ~20 MB of RSS for this one structure.
import { generateKeyPairSync, sign } from "node:crypto";

export type KeyAndCsr = { keyPem: string; csrPem: string; publicKeyDer: Buffer };

export async function createKeyAndCsr(spiffeId: string): Promise<KeyAndCsr> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicKeyDer = publicKey.export({ type: "spki", format: "der" });
  const info = certificationRequestInfo(publicKeyDer, spiffeId);
  // ECDSA signatures from node:crypto are DER (Ecdsa-Sig-Value), as PKCS#10 wants them.
  const signature = sign("sha256", info, privateKey);
  const csr = der(0x30, info, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  return { keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), csrPem: toPem(csr, "CERTIFICATE REQUEST"), publicKeyDer };
}

/** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters (RFC 5758 §3.2). */
const ECDSA_WITH_SHA256 = Buffer.from("300a06082a8648ce3d040302", "hex");
/** pkcs-9-at-extensionRequest (1.2.840.113549.1.9.14). */
const EXTENSION_REQUEST_OID = Buffer.from("06092a864886f70d01090e", "hex");
/** id-ce-subjectAltName (2.5.29.17). */
const SUBJECT_ALT_NAME_OID = Buffer.from("0603551d11", "hex");

/** CertificationRequestInfo (RFC 2986 §4.1): version 0, empty subject, the key, and a SAN extension request. */
function certificationRequestInfo(spki: Buffer, spiffeId: string): Buffer {
  // GeneralNames with one uniformResourceIdentifier ([6] IMPLICIT IA5String).
  const generalNames = der(0x30, der(0x86, Buffer.from(spiffeId, "ascii")));
  const extensions = der(0x30, der(0x30, SUBJECT_ALT_NAME_OID, der(0x04, generalNames)));
  const attribute = der(0x30, EXTENSION_REQUEST_OID, der(0x31, extensions));
  return der(0x30, Buffer.from([0x02, 0x01, 0x00]), der(0x30), spki, der(0xa0, attribute));
}

/** One DER TLV: the tag, the definite length, the contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  if (n > 0xffff) throw new Error(`a CSR field of ${n} bytes is longer than a SPIFFE ID CSR can be`);
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function toPem(body: Buffer, label: string): string {
  const lines = body.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
