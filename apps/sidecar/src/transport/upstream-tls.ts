// What an outbound connection pool needs to originate mTLS to a cluster: tls.connect options with our current
// certificate, the mesh root as the only CA, and a check that the server is the cluster's service by SPIFFE ID.
// `generation` changes on each rotation so pools can stop reusing connections made with an older certificate.
import type tls from "node:tls";
import type { Snapshot } from "@trellis/mesh-config";
import type { MeshTls } from "./mesh-tls.ts";
import { buildSpiffeIdString, readSpiffeId } from "./spiffe.ts";

export type UpstreamTls = { generation: number; options: tls.ConnectionOptions };
/** null: plaintext to this cluster (the snapshot says so, or this sidecar has no mesh identity / no certificate yet). */
export type UpstreamTlsProvider = (clusterName: string) => UpstreamTls | null;

type Cached = { snapshot: Snapshot; generation: number; result: UpstreamTls };

export function createUpstreamTls({ meshTls, currentSnapshot }: { meshTls: MeshTls | null; currentSnapshot: () => Snapshot | null }): UpstreamTlsProvider {
  if (meshTls === null) return () => null;
  // One options object per cluster and certificate, reused by every connection until either changes.
  const cache = new Map<string, Cached>();
  meshTls.onRotate(() => cache.clear());
  return (clusterName) => {
    const snapshot = currentSnapshot();
    if (snapshot === null || snapshot.outboundMtls[clusterName] !== true) return null;
    const cluster = snapshot.clusters[clusterName];
    // An expired certificate is still offered: the peer refuses it and the caller gets 503 UF saying so, where
    // falling back to plaintext would quietly downgrade a hop the policy says is mutual TLS.
    const state = meshTls.latest();
    if (cluster === undefined || state === null) return null;
    const cached = cache.get(clusterName);
    if (cached !== undefined && cached.snapshot === snapshot && cached.generation === state.generation) return cached.result;
    // Destinations are resolved in the caller's namespace (the snapshot builder looks services up there).
    const expected = buildSpiffeIdString({ trustDomain: meshTls.trustDomain, namespace: snapshot.namespace, serviceAccount: cluster.service });
    const result: UpstreamTls = {
      generation: state.generation,
      options: {
        secureContext: state.clientContext,
        ALPNProtocols: ["http/1.1"],
        rejectUnauthorized: true,
        checkServerIdentity: (_host, certificate) => checkPeerIdentity(certificate.subjectaltname, expected, clusterName),
      },
    };
    cache.set(clusterName, { snapshot, generation: state.generation, result });
    return result;
  };
}

/** undefined when the server presented `expected`; otherwise the error the handshake fails with. */
export function checkPeerIdentity(subjectAltName: string | undefined, expected: string, clusterName: string): Error | undefined {
  const presented = readSpiffeId(subjectAltName);
  if (presented?.id === expected) return undefined;
  // No error code on purpose: callers report `code ?? message`, and the message is the useful part here.
  return new Error(`server identity ${presented?.id ?? `without a SPIFFE ID (SAN ${subjectAltName ?? "none"})`} is not ${expected}, the identity cluster ${clusterName} must present`);
}
