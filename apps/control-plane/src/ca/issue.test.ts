// Leaf issuing on an in-memory root: what the leaf holds, and every CSR the CA must refuse.
import { beforeAll, describe, expect, it } from "vitest";
import { CLOCK_SKEW_MS, issueLeaf } from "./issue.ts";
import { generateRoot, type RootCa } from "./root.ts";
import { ECDSA_P256, x509, type CryptoKeyPair } from "./x509.ts";

const frontend = "spiffe://cluster.local/ns/default/sa/frontend";
const now = new Date("2026-11-24T10:00:00Z");
let root: RootCa;

beforeAll(async () => {
  root = await generateRoot({ trustDomain: "cluster.local", now });
});

async function makeCsr(names: Array<{ type: "url" | "dns"; value: string }>, algorithm: EcKeyGenParams & { hash: string } = ECDSA_P256): Promise<string> {
  const keys = (await crypto.subtle.generateKey(algorithm, false, ["sign", "verify"])) as CryptoKeyPair;
  const extensions = names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: algorithm, extensions });
  return csr.toString("pem");
}

type EcKeyGenParams = { name: string; namedCurve: string };

describe("issueLeaf", () => {
  it("issues a leaf with only the allowed SPIFFE SAN, mesh usages, skewed notBefore and the TTL", async () => {
    const result = await issueLeaf({ root, csrPem: await makeCsr([{ type: "url", value: frontend }]), allowedSpiffeId: frontend, ttlMs: 3_600_000, now });
    if (!result.ok) throw new Error(result.reason);
    const leaf = new x509.X509Certificate(result.leaf.certPem);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([{ type: "url", value: frontend }]);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)?.critical).toBe(true);
    expect(leaf.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    expect(leaf.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(leaf.notBefore.getTime()).toBe(now.getTime() - CLOCK_SKEW_MS);
    expect(leaf.notAfter.getTime()).toBe(now.getTime() + 3_600_000);
    expect(leaf.issuer).toBe(root.cert.subject);
    expect(await leaf.verify({ publicKey: root.cert.publicKey, signatureOnly: true })).toBe(true);
    expect(result.leaf.serialNumber).toMatch(/^[0-9a-f]{32}$/);
  });

  it("gives every leaf its own random serial", async () => {
    const csrPem = await makeCsr([{ type: "url", value: frontend }]);
    const serials = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const result = await issueLeaf({ root, csrPem, allowedSpiffeId: frontend, ttlMs: 60_000, now });
      if (result.ok) serials.add(result.leaf.serialNumber);
    }
    expect(serials.size).toBe(5);
  });

  it("refuses a CSR for another identity with 403, naming both", async () => {
    const result = await issueLeaf({ root, csrPem: await makeCsr([{ type: "url", value: "spiffe://cluster.local/ns/default/sa/payment-service" }]), allowedSpiffeId: frontend, ttlMs: 60_000, now });
    expect(result).toEqual({ ok: false, status: 403, reason: `token allows ${frontend}, CSR asks for spiffe://cluster.local/ns/default/sa/payment-service` });
  });

  it("refuses a CSR that asks for extra names next to its own identity", async () => {
    const result = await issueLeaf({ root, csrPem: await makeCsr([{ type: "url", value: frontend }, { type: "dns", value: "bank.example" }]), allowedSpiffeId: frontend, ttlMs: 60_000, now });
    expect(result).toEqual({ ok: false, status: 403, reason: `token allows only ${frontend}, CSR asks for ${frontend}, DNS:bank.example` });
  });

  it("refuses a CSR without a SAN URI, saying what to put there", async () => {
    const result = await issueLeaf({ root, csrPem: await makeCsr([]), allowedSpiffeId: frontend, ttlMs: 60_000, now });
    expect(result).toMatchObject({ ok: false, status: 400, reason: expect.stringContaining(`URI:${frontend}`) as string });
  });

  it("refuses a key that is not P-256", async () => {
    const p384 = { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" };
    const result = await issueLeaf({ root, csrPem: await makeCsr([{ type: "url", value: frontend }], p384), allowedSpiffeId: frontend, ttlMs: 60_000, now });
    expect(result).toEqual({ ok: false, status: 400, reason: "the CSR's key is ECDSA P-384; the mesh CA signs ECDSA P-256 keys only" });
  });

  it("refuses text that is not a CSR and a CSR whose signature was tampered with", async () => {
    expect(await issueLeaf({ root, csrPem: "hello", allowedSpiffeId: frontend, ttlMs: 60_000, now })).toMatchObject({ ok: false, status: 400, reason: expect.stringContaining("not a PEM-encoded PKCS#10") as string });
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(await makeCsr([{ type: "url", value: frontend }])).rawData);
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff; // inside the signature value
    const tampered = x509.PemConverter.encode(der, "CERTIFICATE REQUEST");
    expect(await issueLeaf({ root, csrPem: tampered, allowedSpiffeId: frontend, ttlMs: 60_000, now })).toEqual({
      ok: false,
      status: 400,
      reason: "the CSR's signature does not verify against its own public key",
    });
  });
});
