// The mesh CA's root: an ECDSA P-256 key and a self-signed CA certificate, created on first start in the CA
// directory (key 0600) and reused afterwards, or given by the operator as two files. A key anyone else can read
// is refused: whoever holds it can mint any identity in the mesh.
import { createHash, createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "@trellis/runtime";
import { ECDSA_P256, x509, type CryptoKey, type CryptoKeyPair, type EcKeyAlgorithm, type X509 } from "./x509.ts";

const ROOT_VALIDITY_YEARS = 10;
export const ROOT_KEY_FILE = "root-key.pem";
export const ROOT_CERT_FILE = "root-cert.pem";

export type RootSource = { kind: "dir"; dir: string } | { kind: "files"; certFile: string; keyFile: string };

export type RootCa = {
  cert: X509.X509Certificate;
  certPem: string;
  /** Signs leaves; never leaves the process. */
  privateKey: CryptoKey;
  /** SHA-256 of the root's DER encoding, lowercase hex: what sidecars and `trellis check` compare. */
  fingerprint: string;
  /** Where it came from, for the start-up log line. */
  origin: string;
};

export async function loadOrCreateRoot({ source, trustDomain, now = new Date() }: { source: RootSource; trustDomain: string; now?: Date }): Promise<RootCa> {
  if (source.kind === "files") {
    const root = await loadRoot(source.certFile, source.keyFile, now);
    return { ...root, origin: `operator-provided ${source.certFile}` };
  }
  const keyFile = join(source.dir, ROOT_KEY_FILE);
  const certFile = join(source.dir, ROOT_CERT_FILE);
  const haveKey = existsSync(keyFile);
  const haveCert = existsSync(certFile);
  if (haveKey && haveCert) return { ...(await loadRoot(certFile, keyFile, now)), origin: `loaded from ${source.dir}` };
  if (haveKey || haveCert) {
    const [present, missing] = haveKey ? [keyFile, certFile] : [certFile, keyFile];
    throw new AppError(
      "CONFIG",
      `the mesh CA directory has ${present} but not ${missing}; restore the missing file, or remove both to create a new root (every sidecar then needs a new certificate)`,
    );
  }
  return { ...(await createRoot({ dir: source.dir, keyFile, certFile, trustDomain, now })), origin: `created in ${source.dir}` };
}

/** A new root, in memory: the key (PKCS#8 PEM, to be written 0600) and its self-signed CA certificate. */
export async function generateRoot({ trustDomain, now = new Date() }: { trustDomain: string; now?: Date }): Promise<RootCa & { keyPem: string }> {
  const keys = (await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"])) as CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + ROOT_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ O: ["Trellis"] }, { CN: [`Trellis mesh CA ${trustDomain}`] }],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    signingAlgorithm: ECDSA_P256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
  return { cert, certPem: cert.toString("pem"), privateKey: keys.privateKey, fingerprint: fingerprintOf(cert), origin: "generated in memory", keyPem };
}

async function createRoot({ dir, keyFile, certFile, trustDomain, now }: { dir: string; keyFile: string; certFile: string; trustDomain: string; now: Date }) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { keyPem, ...root } = await generateRoot({ trustDomain, now });
  // 'wx': never overwrite a root another process created meanwhile; the mode is set at creation, before any byte.
  writeFileSync(keyFile, keyPem, { mode: 0o600, flag: "wx" });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, root.certPem, { mode: 0o644, flag: "wx" });
  return root;
}

async function loadRoot(certFile: string, keyFile: string, now: Date) {
  assertPrivate(keyFile);
  const certPem = readText(certFile, "root certificate");
  let cert: X509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (error) {
    throw new AppError("CONFIG", `${certFile} is not a PEM X.509 certificate: ${(error as Error).message}`);
  }
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new AppError("CONFIG", `${certFile} is not a CA certificate (basicConstraints cA is not set); give the mesh a CA certificate`);
  if (cert.notAfter.getTime() <= now.getTime()) throw new AppError("CONFIG", `the mesh root certificate ${certFile} expired at ${cert.notAfter.toISOString()}; replace it`);
  const algorithm = cert.publicKey.algorithm as EcKeyAlgorithm;
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    throw new AppError("CONFIG", `${certFile} has a ${algorithm.name} ${algorithm.namedCurve ?? ""} key; the mesh CA signs with ECDSA P-256 only`);
  }

  let keyObject;
  try {
    // Node reads PKCS#8 and SEC1 ("EC PRIVATE KEY") PEM alike; WebCrypto then takes the PKCS#8 form.
    keyObject = createPrivateKey(readText(keyFile, "root key"));
  } catch (error) {
    throw new AppError("CONFIG", `${keyFile} is not a PEM private key: ${(error as Error).message}`);
  }
  const spki = createPublicKey(keyObject).export({ type: "spki", format: "der" });
  if (!Buffer.from(cert.publicKey.rawData).equals(spki)) {
    throw new AppError("CONFIG", `${keyFile} is not the key of ${certFile}; give the key that belongs to the root certificate`);
  }
  const pkcs8 = keyObject.export({ type: "pkcs8", format: "der" });
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  return { cert, certPem: cert.toString("pem"), privateKey, fingerprint: fingerprintOf(cert) };
}

function assertPrivate(keyFile: string): void {
  let mode: number;
  try {
    mode = statSync(keyFile).mode & 0o777;
  } catch {
    throw new AppError("CONFIG", `cannot read the mesh CA key ${keyFile}; check the path (TRELLIS_CA_KEY_FILE or TRELLIS_CA_DIR)`);
  }
  if ((mode & 0o077) !== 0) {
    throw new AppError(
      "CONFIG",
      `the mesh CA key ${keyFile} has permissions ${mode.toString(8).padStart(4, "0")}, so other users can read it; run \`chmod 600 ${keyFile}\` (and consider the key compromised if others did)`,
    );
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new AppError("CONFIG", `cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function fingerprintOf(cert: X509.X509Certificate): string {
  return createHash("sha256").update(Buffer.from(cert.rawData)).digest("hex");
}

/** 128 random bits, positive (top bit clear) and of full length (next bit set), as CAs are expected to use. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString("hex");
}
