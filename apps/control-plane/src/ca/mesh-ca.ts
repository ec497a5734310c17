// The mesh CA as the control plane uses it: the root, the join-token secret and the issuing policy (trust
// domain, leaf lifetime) behind three operations — describe the root, mint a join token, issue a certificate.
import { createHash, timingSafeEqual } from "node:crypto";
import { signJoinToken, verifyJoinToken } from "./join-token.ts";
import { issueLeaf } from "./issue.ts";
import { loadOrCreateRoot, type RootCa, type RootSource } from "./root.ts";
import { buildSpiffeId, type WorkloadIdentity } from "./spiffe.ts";

export type CaSettings = {
  root: RootSource;
  trustDomain: string;
  /** Leaf lifetime (TRELLIS_CERT_TTL). */
  certTtlMs: number;
  /** HMAC secret for join tokens (TRELLIS_JOIN_SECRET); without it no token verifies and nothing is issued. */
  joinSecret?: string;
};

/** GET /v1/ca: what `trellis check` compares every sidecar's /certs against. */
export type CaDescription = { trustDomain: string; rootFingerprint: string; rootNotAfter: string; rootCertificate: string };

export type IssueRequest = { csr: string; token: string };

export type Issued = {
  spiffeId: string;
  identity: WorkloadIdentity;
  /** Leaf first, then the root. */
  certificateChain: [string, string];
  serialNumber: string;
  expiresAt: Date;
};

export type CaOutcome<T> = { ok: true; value: T } | { ok: false; status: 400 | 401 | 403 | 503; reason: string };

export type MeshCa = {
  root: RootCa;
  describe: () => CaDescription;
  issue: (request: IssueRequest) => Promise<CaOutcome<Issued>>;
  mintJoinToken: (request: { namespace: string; serviceAccount: string; ttlMs: number }) => CaOutcome<{ token: string; spiffeId: string; expiresAt: Date }>;
  /** True when a join secret is configured, i.e. tokens can be minted and verified. */
  acceptsTokens: boolean;
  /** Constant-time comparison of a presented secret with the join secret (false when none is configured). */
  checkJoinSecret: (candidate: string) => boolean;
};

export const NO_SECRET = "the mesh CA has no join secret (TRELLIS_JOIN_SECRET), so it cannot mint or check join tokens; `trellis up` sets one";

export async function createMeshCa(settings: CaSettings, { now = () => new Date() }: { now?: () => Date } = {}): Promise<MeshCa> {
  const root = await loadOrCreateRoot({ source: settings.root, trustDomain: settings.trustDomain, now: now() });
  const { joinSecret, trustDomain, certTtlMs } = settings;

  return {
    root,
    acceptsTokens: joinSecret !== undefined,
    checkJoinSecret: (candidate) => joinSecret !== undefined && timingSafeEqual(digest(candidate), digest(joinSecret)),
    describe: () => ({ trustDomain, rootFingerprint: root.fingerprint, rootNotAfter: root.cert.notAfter.toISOString(), rootCertificate: root.certPem }),

    mintJoinToken({ namespace, serviceAccount, ttlMs }) {
      if (joinSecret === undefined) return { ok: false, status: 503, reason: NO_SECRET };
      const identity = { trustDomain, namespace, serviceAccount };
      const { token, expiresAt } = signJoinToken({ secret: joinSecret, identity, ttlMs, now: now() });
      return { ok: true, value: { token, spiffeId: buildSpiffeId(identity), expiresAt } };
    },

    async issue({ csr, token }) {
      if (joinSecret === undefined) return { ok: false, status: 503, reason: NO_SECRET };
      const verified = verifyJoinToken({ token, secret: joinSecret, now: now() });
      if (!verified.ok) return { ok: false, status: 401, reason: verified.reason };
      if (verified.claims.trustDomain !== trustDomain) {
        return { ok: false, status: 403, reason: `the join token is for trust domain ${verified.claims.trustDomain}; this mesh CA issues for ${trustDomain}` };
      }
      const result = await issueLeaf({ root, csrPem: csr, allowedSpiffeId: verified.spiffeId, ttlMs: certTtlMs, now: now() });
      if (!result.ok) return result;
      const { leaf } = result;
      return {
        ok: true,
        value: {
          spiffeId: verified.spiffeId,
          identity: verified.claims,
          certificateChain: [leaf.certPem, root.certPem],
          serialNumber: leaf.serialNumber,
          expiresAt: leaf.notAfter,
        },
      };
    },
  };
}

/** Equal-length inputs for timingSafeEqual, whatever the lengths of the secrets compared. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
