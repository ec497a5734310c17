// The sidecar's mesh identity: a key and a short-lived certificate from the control plane's CA, obtained at start
// with the join token and renewed (new key, new CSR) at half-life. When the CA cannot be reached the sidecar keeps
// its current certificate and retries with backoff until that certificate expires. The rest of the sidecar reads
// the current material and hears about rotations through onRotate (mTLS builds its TLS contexts from it).
import { createHash, X509Certificate } from "node:crypto";
import { computeBackoff, DEFAULT_BACKOFF, type BackoffOptions } from "../backoff.ts";
import type { Logger } from "../options.ts";
import { createKeyAndCsr } from "./csr.ts";
import { buildSpiffeId, readTokenClaims } from "./join-token.ts";
import { computeRenewalDelay } from "./rotation.ts";

export const CERTIFICATES_PATH = "/v1/certificates";
const REQUEST_TIMEOUT_MS = 10_000;

export type IdentityMaterial = {
  spiffeId: string;
  /** Leaf certificate, PEM. */
  certPem: string;
  /** Leaf then root, PEM, as a TLS server or client presents them. */
  chainPem: string[];
  /** The leaf's private key, PKCS#8 PEM. */
  keyPem: string;
  /** The mesh root: the trust anchor for peers' certificates. */
  rootPem: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the root's DER, lowercase hex (as the control plane's GET /v1/ca reports it). */
  rootFingerprint: string;
};

/** GET /certs on the admin port. */
export type CertSummary = { spiffeId: string; serialNumber: string; notBefore: string; notAfter: string; rootFingerprint: string };

export type Identity = {
  spiffeId: string;
  /** The current, unexpired certificate and key; null before the first one arrives or once it has expired. */
  current: () => IdentityMaterial | null;
  /** Called with each new certificate (the first one included); returns the unsubscribe. */
  onRotate: (listener: (material: IdentityMaterial) => void) => () => void;
  /** Why the last request for a certificate failed, if it did. */
  lastError: () => string | null;
  stop: () => void;
};

export type IdentityOptions = {
  controlPlaneUrl: string;
  joinToken: string;
  namespace: string;
  service: string;
  workload: string;
  log: Logger;
  backoff?: BackoffOptions;
};

export function startIdentity({ controlPlaneUrl, joinToken, namespace, service, workload, log, backoff = DEFAULT_BACKOFF }: IdentityOptions): Identity {
  const claims = readTokenClaims(joinToken);
  // The sidecar asks for what it is; a token for another service is refused by the CA with both names.
  const spiffeId = buildSpiffeId({ trustDomain: claims.trustDomain, namespace, serviceAccount: service });
  const listeners = new Set<(material: IdentityMaterial) => void>();
  let material: IdentityMaterial | null = null;
  let lastError: string | null = null;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => void renew(), delayMs);
  };

  const renew = async () => {
    try {
      const next = await requestCertificate({ controlPlaneUrl, joinToken, spiffeId, workload });
      if (stopped) return;
      if (material !== null && material.rootFingerprint !== next.rootFingerprint) {
        log.warn(`sidecar ${workload}: the mesh root changed (fingerprint ${next.rootFingerprint.slice(0, 16)}…); peers on the old root will be refused`);
      }
      const first = material === null;
      material = next;
      lastError = null;
      attempt = 0;
      if (first) log.info(`sidecar ${workload}: mesh identity ${spiffeId}, certificate valid until ${next.notAfter.toISOString()}`);
      for (const listener of listeners) listener(next);
      schedule(computeRenewalDelay({ receivedAt: new Date(), notAfter: next.notAfter }));
    } catch (error) {
      if (stopped) return;
      const message = (error as Error).message;
      // Log once per distinct failure, not on every retry of a control plane that is simply down.
      if (message !== lastError) {
        const holding = material !== null && material.notAfter.getTime() > Date.now() ? `; keeping the current certificate until ${material.notAfter.toISOString()}` : "";
        log.warn(`sidecar ${workload}: cannot get a certificate for ${spiffeId}: ${message}${holding}`);
      }
      lastError = message;
      schedule(computeBackoff(attempt, backoff));
      attempt += 1;
    }
  };

  if (claims.expiresAt.getTime() <= Date.now()) {
    log.warn(`sidecar ${workload}: TRELLIS_JOIN_TOKEN expired at ${claims.expiresAt.toISOString()}; the mesh CA will refuse it until a new one is set`);
  }
  void renew();

  return {
    spiffeId,
    current: () => (material !== null && material.notAfter.getTime() > Date.now() ? material : null),
    onRotate(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    lastError: () => lastError,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export function summarise(material: IdentityMaterial): CertSummary {
  return {
    spiffeId: material.spiffeId,
    serialNumber: material.serialNumber,
    notBefore: material.notBefore.toISOString(),
    notAfter: material.notAfter.toISOString(),
    rootFingerprint: material.rootFingerprint,
  };
}

async function requestCertificate({ controlPlaneUrl, joinToken, spiffeId, workload }: { controlPlaneUrl: string; joinToken: string; spiffeId: string; workload: string }): Promise<IdentityMaterial> {
  const { keyPem, csrPem, publicKeyDer } = await createKeyAndCsr(spiffeId);
  const url = new URL(CERTIFICATES_PATH, controlPlaneUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ csr: csrPem, token: joinToken, workload }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new Error(`cannot reach the mesh CA at ${url.origin} (${reason})`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`the mesh CA refused (HTTP ${response.status}): ${readError(text)}`);
  return readIssued(text, { spiffeId, keyPem, publicKeyDer });
}

/** Checks the answer before trusting it: our key, our SPIFFE ID, and a leaf the returned root really signed. */
async function readIssued(text: string, { spiffeId, keyPem, publicKeyDer }: { spiffeId: string; keyPem: string; publicKeyDer: Buffer }): Promise<IdentityMaterial> {
  let chain: unknown;
  try {
    chain = (JSON.parse(text) as { certificateChain?: unknown }).certificateChain;
  } catch {
    throw new Error("the mesh CA answered with something that is not JSON; is TRELLIS_CONTROL_PLANE_URL the control plane?");
  }
  if (!Array.isArray(chain) || chain.length !== 2 || !chain.every((pem): pem is string => typeof pem === "string")) {
    throw new Error("the mesh CA answered without a [leaf, root] certificateChain");
  }
  const [leafPem, rootPem] = chain as [string, string];
  // node:crypto parses what we need; an X.509 library would cost every sidecar ~20 MB of RSS for these few fields.
  let leaf: X509Certificate;
  let root: X509Certificate;
  try {
    [leaf, root] = [new X509Certificate(leafPem), new X509Certificate(rootPem)];
  } catch (error) {
    throw new Error(`the mesh CA returned a certificate chain that does not parse: ${(error as Error).message}`, { cause: error });
  }
  if (!leaf.publicKey.export({ type: "spki", format: "der" }).equals(publicKeyDer)) throw new Error("the mesh CA returned a certificate for another key");
  // e.g. "URI:spiffe://cluster.local/ns/default/sa/catalog"; several names are comma-separated.
  const sans = leaf.subjectAltName === undefined ? [] : leaf.subjectAltName.split(", ");
  if (sans.length !== 1 || sans[0] !== `URI:${spiffeId}`) {
    throw new Error(`the mesh CA returned a certificate for ${sans.join(", ") || "no SAN"}, not ${spiffeId}`);
  }
  if (!leaf.verify(root.publicKey)) throw new Error("the returned leaf is not signed by the returned root");
  return {
    spiffeId,
    certPem: leafPem,
    chainPem: [leafPem, rootPem],
    keyPem,
    rootPem,
    serialNumber: leaf.serialNumber.toLowerCase(),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    rootFingerprint: createHash("sha256").update(root.raw).digest("hex"),
  };
}

function readError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : body;
  } catch {
    return body;
  }
}
