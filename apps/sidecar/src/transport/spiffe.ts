// Reading a peer's identity from its certificate: the single URI SAN `spiffe://<trust-domain>/ns/<ns>/sa/<sa>` the
// mesh CA puts there. Both directions use it: inbound to learn who called, outbound to check who answered.

export type SpiffeId = { id: string; trustDomain: string; namespace: string; serviceAccount: string };

const SPIFFE_PATTERN = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

export function parseSpiffeId(id: string): SpiffeId | null {
  const match = SPIFFE_PATTERN.exec(id);
  if (match === null) return null;
  const [, trustDomain = "", namespace = "", serviceAccount = ""] = match;
  return { id, trustDomain, namespace, serviceAccount };
}

/**
 * The SPIFFE ID in a certificate's subjectAltName as Node renders it (`URI:spiffe://…, DNS:…`); null when there is
 * none or more than one (an SVID has exactly one URI SAN).
 */
export function readSpiffeId(subjectAltName: string | undefined): SpiffeId | null {
  if (subjectAltName === undefined) return null;
  let found: SpiffeId | null = null;
  for (const entry of subjectAltName.split(", ")) {
    if (!entry.startsWith("URI:")) continue;
    // Node quotes a value that holds a comma or quote; a SPIFFE ID never does, so a quoted one is not ours.
    const parsed = parseSpiffeId(entry.slice(4));
    if (parsed === null || found !== null) return null;
    found = parsed;
  }
  return found;
}

export function buildSpiffeIdString({ trustDomain, namespace, serviceAccount }: Omit<SpiffeId, "id">): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Istio's principal form, as AuthorizationPolicy writes it: the SPIFFE ID without `spiffe://`. */
export function principalOf(id: string): string {
  return id.startsWith("spiffe://") ? id.slice("spiffe://".length) : id;
}
