// Who is at the other end of an inbound connection, attached once to the socket when the connection is accepted
// so that every request on it reads it with one property access. HTTP/2 exposes the socket through a proxy that
// forwards property reads, so `peerOf(session.socket)` works there too.
import type { Duplex } from "node:stream";
import type { SpiffeId } from "./spiffe.ts";

export type Peer = {
  /** The connection was mutual TLS and the client certificate verified against the mesh root. */
  mtls: boolean;
  /** The client's SPIFFE identity, when mtls. */
  identity: SpiffeId | null;
  /** Istio's principal form (`cluster.local/ns/x/sa/y`), when mtls. */
  principal: string | null;
  /** The negotiated ALPN ("h2", "http/1.1", "trellis-tcp"), or null for plaintext / none. */
  alpn: string | null;
};

export const PLAINTEXT_PEER: Peer = Object.freeze({ mtls: false, identity: null, principal: null, alpn: null });

const PEER = Symbol("trellis.peer");
type WithPeer = { [PEER]?: Peer };

export function attachPeer(socket: Duplex, peer: Peer): void {
  (socket as Duplex & WithPeer)[PEER] = peer;
}

/** The peer of the connection a request came on; plaintext when unknown (e.g. a socket not from the mesh listener). */
export function peerOf(socket: object | null | undefined): Peer {
  return (socket as WithPeer | null | undefined)?.[PEER] ?? PLAINTEXT_PEER;
}
