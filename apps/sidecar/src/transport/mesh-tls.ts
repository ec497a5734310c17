// The sidecar's TLS material as both ends of a mesh hop use it, rebuilt once per certificate rotation rather than
// per connection: the secure-context options a server needs (key, leaf chain, mesh root as the only CA) and a
// client SecureContext. New handshakes pick up the newest; established connections keep the one they began with.
import tls from "node:tls";
import type { Identity, IdentityMaterial } from "../identity/identity.ts";
import { parseSpiffeId } from "./spiffe.ts";

/** Mesh hops speak TLS 1.3 only: one round trip, and nothing older to downgrade to. */
export const MESH_TLS_MIN_VERSION = "TLSv1.3";

/** ALPN on mesh hops: HTTP/2, HTTP/1.1, and raw TCP pass-through (a Trellis name; the client asks for it alone). */
export const H2_ALPN = "h2";
export const HTTP1_ALPN = "http/1.1";
export const TCP_ALPN = "trellis-tcp";

export type MeshTlsState = {
  /** Increments on each new certificate (1 for the first). */
  generation: number;
  material: IdentityMaterial;
  /** For tls.Server#setSecureContext. */
  serverOptions: tls.SecureContextOptions;
  /** For upstream connections (tls.connect's secureContext). */
  clientContext: tls.SecureContext;
};

export type MeshTls = {
  /** Our trust domain, from our SPIFFE ID; peers must share it. */
  trustDomain: string;
  /** The material in force; null before the first certificate or once the last one has expired. */
  current: () => MeshTlsState | null;
  /** The newest material even if it has expired; null before the first certificate. */
  latest: () => MeshTlsState | null;
  /** Called after each rotation with the new state; returns the unsubscribe. */
  onRotate: (listener: (state: MeshTlsState) => void) => () => void;
  stop: () => void;
};

export function createMeshTls(identity: Identity): MeshTls {
  const parsed = parseSpiffeId(identity.spiffeId);
  if (parsed === null) throw new Error(`the sidecar's SPIFFE ID ${identity.spiffeId} is not spiffe://<trust-domain>/ns/<namespace>/sa/<service>`);
  const listeners = new Set<(state: MeshTlsState) => void>();
  let state: MeshTlsState | null = null;

  const rotate = (material: IdentityMaterial) => {
    const serverOptions: tls.SecureContextOptions = {
      key: material.keyPem,
      cert: material.chainPem.join("\n"),
      ca: material.rootPem,
      minVersion: MESH_TLS_MIN_VERSION,
    };
    state = { generation: (state?.generation ?? 0) + 1, material, serverOptions, clientContext: tls.createSecureContext(serverOptions) };
    for (const listener of listeners) listener(state);
  };
  const unsubscribe = identity.onRotate(rotate);
  // The first certificate may have arrived before we subscribed.
  const existing = identity.current();
  if (existing !== null) rotate(existing);

  return {
    trustDomain: parsed.trustDomain,
    current: () => (state !== null && identity.current() !== null ? state : null),
    latest: () => state,
    onRotate(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    stop: unsubscribe,
  };
}
