// SPIFFE IDs as the mesh uses them: one identity per service (Istio's service account) in a namespace, under the
// mesh's trust domain: spiffe://<trust-domain>/ns/<namespace>/sa/<service>.

/** SPIFFE's trust-domain characters (lowercase letters, digits, '.', '-', '_'). */
export const TRUST_DOMAIN_PATTERN = /^[a-z0-9._-]+$/;
/** Kubernetes-style names, as the sidecar's env accepts them. */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export type WorkloadIdentity = { trustDomain: string; namespace: string; serviceAccount: string };

export function buildSpiffeId({ trustDomain, namespace, serviceAccount }: WorkloadIdentity): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function parseSpiffeId(uri: string): WorkloadIdentity | null {
  const match = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (match === null) return null;
  const [, trustDomain = "", namespace = "", serviceAccount = ""] = match;
  if (!TRUST_DOMAIN_PATTERN.test(trustDomain) || !NAME_PATTERN.test(namespace) || !NAME_PATTERN.test(serviceAccount)) return null;
  return { trustDomain, namespace, serviceAccount };
}
