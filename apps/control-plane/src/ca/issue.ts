// Turns a sidecar's CSR into a short-lived leaf certificate, once the CSR is proven well-formed and asks for
// exactly the identity the join token allows. The leaf carries nothing the CSR could smuggle in: its SAN, usages
// and lifetime are set here.
import { parseSpiffeId } from "./spiffe.ts";
import type { RootCa } from "./root.ts";
import { randomSerial } from "./root.ts";
import { ECDSA_P256, x509, type EcKeyAlgorithm, type X509 } from "./x509.ts";

/** Clocks in a mesh drift; a leaf valid from a minute ago is not refused by a peer a few seconds behind. */
export const CLOCK_SKEW_MS = 60_000;
const SAN_OID = "2.5.29.17";

export type IssuedLeaf = { certPem: string; serialNumber: string; notBefore: Date; notAfter: Date };

export type IssueResult = { ok: true; leaf: IssuedLeaf } | { ok: false; status: 400 | 403; reason: string };

export async function issueLeaf({
  root,
  csrPem,
  allowedSpiffeId,
  ttlMs,
  now = new Date(),
}: {
  root: RootCa;
  csrPem: string;
  allowedSpiffeId: string;
  ttlMs: number;
  now?: Date;
}): Promise<IssueResult> {
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    return { ok: false, status: 400, reason: "csr is not a PEM-encoded PKCS#10 certificate request (-----BEGIN CERTIFICATE REQUEST-----)" };
  }
  const algorithm = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    return { ok: false, status: 400, reason: `the CSR's key is ${[algorithm.name, algorithm.namedCurve].filter(Boolean).join(" ")}; the mesh CA signs ECDSA P-256 keys only` };
  }
  if (!(await csr.verify().catch(() => false))) return { ok: false, status: 400, reason: "the CSR's signature does not verify against its own public key" };

  const requested = readSanNames(csr);
  const uris = requested.filter((name) => name.type === "url").map((name) => name.value);
  const others = requested.filter((name) => name.type !== "url").map((name) => `${name.type.toUpperCase()}:${name.value}`);
  if (uris.length === 0) {
    return { ok: false, status: 400, reason: `the CSR asks for no SAN URI; put the SPIFFE ID in its subjectAltName, e.g. URI:${allowedSpiffeId}` };
  }
  if (uris.length > 1 || others.length > 0) {
    return { ok: false, status: 403, reason: `token allows only ${allowedSpiffeId}, CSR asks for ${[...uris, ...others].join(", ")}` };
  }
  const [requestedUri = ""] = uris;
  if (requestedUri !== allowedSpiffeId) {
    const hint = parseSpiffeId(requestedUri) === null ? " (not a spiffe://<trust-domain>/ns/<namespace>/sa/<service> ID)" : "";
    return { ok: false, status: 403, reason: `token allows ${allowedSpiffeId}, CSR asks for ${requestedUri}${hint}` };
  }

  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  // A leaf never outlives the root that vouches for it.
  const notAfter = new Date(Math.min(now.getTime() + ttlMs, root.cert.notAfter.getTime()));
  const serialNumber = randomSerial();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber,
    // An empty subject with a critical SAN, as SPIFFE X.509-SVIDs (and Istio's) are.
    subject: "",
    issuer: root.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey: root.privateKey,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: allowedSpiffeId }], true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(root.cert.publicKey),
    ],
  });
  return { ok: true, leaf: { certPem: leaf.toString("pem"), serialNumber: leaf.serialNumber, notBefore: leaf.notBefore, notAfter: leaf.notAfter } };
}

function readSanNames(csr: X509.Pkcs10CertificateRequest): Array<{ type: string; value: string }> {
  const extension = csr.getExtension(SAN_OID);
  if (extension === null) return [];
  const san = extension instanceof x509.SubjectAlternativeNameExtension ? extension : new x509.SubjectAlternativeNameExtension(extension.rawData);
  return san.names.toJSON().map((name) => ({ type: name.type, value: name.value }));
}
