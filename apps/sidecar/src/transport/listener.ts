// The inbound mesh port: one net.Server that looks at the first bytes of each connection and hands it on.
// TLS ClientHello → mTLS with this sidecar's current certificate (client certificate required, verified against the
// mesh root, SPIFFE ID read from its URI SAN) → by ALPN to HTTP/2, HTTP/1.1 or raw TCP; plaintext → h2c or HTTP/1.1
// when the PeerAuthentication mode allows it. The mode is read per connection, so a pushed change applies to new
// connections and leaves established ones alone.
//
// Hook points for protocol handlers (H4), all on the returned MeshListener:
//   listener.http2.on("stream", (stream, headers) => …)   h2 over mTLS and h2c; peerOf(stream.session.socket)
//   listener.http1.on("upgrade", (req, socket, head) => …) WebSocket and other upgrades; peerOf(req.socket)
//   listener.setTcpHandler((socket, peer) => …)           ALPN "trellis-tcp": the decrypted TLS socket, as is
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import type { MtlsMode } from "@trellis/mesh-config";
import { installHttp1Engine } from "../http1/server.ts";
import type { Logger } from "../options.ts";
import { classifyFirstBytes, type FirstBytes } from "./first-bytes.ts";
import { H2_ALPN, HTTP1_ALPN, MESH_TLS_MIN_VERSION, TCP_ALPN, type MeshTls } from "./mesh-tls.ts";
import { attachPeer, type Peer } from "./peer.ts";
import { principalOf, readSpiffeId } from "./spiffe.ts";

/** A connection that has said nothing after this long is dropped (slow-loris on the first bytes). */
const FIRST_BYTES_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a connection that arrives before the first config waits for it (Envoy: listener warming). */
const CONFIG_WAIT_MS = 5_000;
const CONFIG_POLL_MS = 25;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

export type TcpHandler = (socket: tls.TLSSocket, peer: Peer) => void;

/** Why connections were refused or accepted, since start (GET /stats can show them). */
export type ListenerStats = {
  mtlsAccepted: number;
  plaintextAccepted: number;
  /** Plaintext under STRICT. */
  plaintextRefused: number;
  /** TLS under DISABLE. */
  tlsRefused: number;
  /** TLS while this sidecar has no valid certificate. */
  noCertificate: number;
  /** Handshakes that failed: foreign CA, no client certificate, bad ALPN, timeouts. */
  handshakeFailed: number;
  /** Verified certificates without a usable SPIFFE ID of our trust domain. */
  peerIdentityRefused: number;
  /** Connections that arrived before any config and waited too long for one. */
  noConfig: number;
  /** ALPN trellis-tcp with no TCP handler plugged in. */
  tcpUnhandled: number;
  /** The last handshake failure, for diagnosis. */
  lastHandshakeError: string | null;
};

export type MeshListenerOptions = {
  /** HTTP/1.1 requests, plaintext or over mTLS; `peerOf(req.socket)` says who called. */
  onRequest: http.RequestListener;
  /** The PeerAuthentication mode in force; null until the first config arrives. */
  mtlsMode: () => MtlsMode | null;
  /** null when the sidecar has no mesh identity: TLS is refused, and STRICT refuses everything. */
  meshTls: MeshTls | null;
  /** Names this listener in logs, e.g. "sidecar catalog-v1-0 inbound". */
  what: string;
  log: Logger;
};

export type MeshListener = {
  server: net.Server;
  http1: http.Server;
  http2: http2.Http2Server;
  setTcpHandler: (handler: TcpHandler) => void;
  stats: () => Readonly<ListenerStats>;
  /** Stops accepting, lets connections finish for up to `drainMs`, then cuts what is left. */
  close: (drainMs: number) => Promise<void>;
};

type Counter = Exclude<keyof ListenerStats, "lastHandshakeError">;

export function createMeshListener({ onRequest, mtlsMode, meshTls, what, log }: MeshListenerOptions): MeshListener {
  const stats: ListenerStats = {
    mtlsAccepted: 0,
    plaintextAccepted: 0,
    plaintextRefused: 0,
    tlsRefused: 0,
    noCertificate: 0,
    handshakeFailed: 0,
    peerIdentityRefused: 0,
    noConfig: 0,
    tcpUnhandled: 0,
    lastHandshakeError: null,
  };
  const warned = new Set<Counter>();
  /** Counts every refusal; logs the first of each kind only (a port scan must not flood the log). */
  const refuse = (socket: net.Socket, counter: Counter, why: string) => {
    stats[counter] += 1;
    if (!warned.has(counter)) {
      warned.add(counter);
      log.warn(`${what}: refusing a connection from ${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}: ${why} (counted in ${counter}; logged once)`);
    }
    socket.destroy();
  };

  const http1 = http.createServer(onRequest);
  installHttp1Engine(http1);
  http1.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // This server never listens itself; 'listening' starts its connection tracking (header/request timeouts, and
  // closeIdleConnections on drain), which Node otherwise only sets up on listen().
  http1.emit("listening");
  const h2 = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  let tcpHandler: TcpHandler | null = null;
  /** Raw connections and the TLS sockets over them, to cut whatever outlives a drain. */
  const open = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  };

  const tlsServer = tls.createServer({
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: [H2_ALPN, HTTP1_ALPN, TCP_ALPN],
    minVersion: MESH_TLS_MIN_VERSION,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  const useMaterial = () => {
    const state = meshTls?.current();
    if (state) tlsServer.setSecureContext(state.serverOptions);
  };
  useMaterial();
  // New handshakes use the newest certificate; connections already up keep theirs.
  const stopRotation = meshTls?.onRotate((state) => tlsServer.setSecureContext(state.serverOptions));

  tlsServer.on("tlsClientError", (error: NodeJS.ErrnoException) => {
    stats.handshakeFailed += 1;
    stats.lastHandshakeError = error.code ?? error.message;
  });
  tlsServer.on("secureConnection", (socket: tls.TLSSocket) => {
    const identity = readSpiffeId(socket.getPeerX509Certificate()?.subjectAltName);
    if (identity === null || identity.trustDomain !== meshTls?.trustDomain) {
      refuse(socket, "peerIdentityRefused", `its certificate has no SPIFFE ID of trust domain ${meshTls?.trustDomain ?? "?"}`);
      return;
    }
    const alpn = socket.alpnProtocol === false ? null : socket.alpnProtocol;
    const peer: Peer = { mtls: true, identity, principal: principalOf(identity.id), alpn };
    attachPeer(socket, peer);
    track(socket);
    stats.mtlsAccepted += 1;
    if (alpn === H2_ALPN) h2.emit("connection", socket);
    else if (alpn === TCP_ALPN) {
      if (tcpHandler === null) refuse(socket, "tcpUnhandled", `ALPN ${TCP_ALPN} asked, but no TCP pass-through is configured`);
      else tcpHandler(socket, peer);
    } else http1.emit("connection", socket);
  });

  const dispatch = (socket: net.Socket, kind: Exclude<FirstBytes, "need-more">, mode: MtlsMode) => {
    if (kind === "tls") {
      if (mode === "DISABLE") return refuse(socket, "tlsRefused", "TLS while PeerAuthentication mode is DISABLE");
      if (!meshTls?.current()) return refuse(socket, "noCertificate", "TLS, but this sidecar has no valid mesh certificate (no TRELLIS_JOIN_TOKEN, or the CA is unreachable)");
      tlsServer.emit("connection", socket);
      return;
    }
    if (mode === "STRICT") {
      const hint = meshTls === null ? "; this sidecar has no mesh identity (no TRELLIS_JOIN_TOKEN), so under STRICT it can take no traffic at all" : "";
      return refuse(socket, "plaintextRefused", `plaintext while PeerAuthentication mode is STRICT${hint}`);
    }
    stats.plaintextAccepted += 1;
    if (kind === "h2c") {
      h2.emit("connection", socket);
      return;
    }
    // The HTTP/1 server reads the socket's handle directly, past what we already read, so what we read is handed to
    // its parser first, synchronously, before any further bytes can arrive.
    const head = drain(socket);
    http1.emit("connection", socket);
    socket.emit("data", head);
    socket.resume();
  };

  const waitForMode = createModeWaiter(mtlsMode);

  // noDelay: a proxy writes small heads and bodies; Nagle plus delayed ACKs would add up to 40 ms to each.
  const server = net.createServer({ noDelay: true }, (socket) => {
    track(socket);
    socket.on("error", () => {}); // resets before dispatch; the protocol servers add their own handlers after
    const onSilence = () => socket.destroy();
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, onSilence);
    let seen: Buffer | null = null;
    const onData = (chunk: Buffer) => {
      const bytes = seen === null ? chunk : Buffer.concat([seen, chunk]);
      const kind = classifyFirstBytes(bytes);
      if (kind === "need-more") {
        seen = bytes;
        return;
      }
      socket.removeListener("data", onData);
      socket.pause();
      socket.unshift(bytes);
      // The protocol servers own the connection's timeouts from here.
      socket.setTimeout(0);
      socket.off("timeout", onSilence);
      waitForMode((mode) => {
        if (socket.destroyed) return;
        if (mode === null) refuse(socket, "noConfig", `no config from the control plane within ${CONFIG_WAIT_MS} ms, so no PeerAuthentication mode`);
        else dispatch(socket, kind, mode);
      });
    };
    socket.on("data", onData);
  });

  return {
    server,
    http1,
    http2: h2,
    setTcpHandler: (handler) => void (tcpHandler = handler),
    stats: () => stats,
    close: (drainMs) => closeListener({ server, http1, sessions, open, drainMs, stopRotation }),
  };
}

/** Everything buffered on a paused socket, as one buffer. */
function drain(socket: net.Socket): Buffer {
  const parts: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) parts.push(chunk);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** Calls back with the mode at once when a config is in force; before that, polls for one for a bounded time. */
function createModeWaiter(mtlsMode: () => MtlsMode | null): (then: (mode: MtlsMode | null) => void) => void {
  let waiting: Array<{ then: (mode: MtlsMode | null) => void; until: number }> = [];
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    const mode = mtlsMode();
    const now = Date.now();
    const still: typeof waiting = [];
    for (const entry of waiting) {
      if (mode !== null) entry.then(mode);
      else if (now >= entry.until) entry.then(null);
      else still.push(entry);
    }
    waiting = still;
    if (waiting.length === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return (then) => {
    const mode = mtlsMode();
    if (mode !== null) return then(mode);
    waiting.push({ then, until: Date.now() + CONFIG_WAIT_MS });
    timer ??= setInterval(poll, CONFIG_POLL_MS);
  };
}

async function closeListener({
  server,
  http1,
  sessions,
  open,
  drainMs,
  stopRotation,
}: {
  server: net.Server;
  http1: http.Server;
  sessions: Set<http2.ServerHttp2Session>;
  open: Set<net.Socket>;
  drainMs: number;
  stopRotation: (() => void) | undefined;
}): Promise<void> {
  stopRotation?.();
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const session of sessions) session.close(); // GOAWAY: in-flight streams finish, no new ones
  const deadline = Date.now() + drainMs;
  while (Date.now() < deadline) {
    http1.closeIdleConnections();
    const done = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]);
    if (done) break;
  }
  http1.closeAllConnections();
  for (const session of sessions) session.destroy();
  for (const socket of open) socket.destroy();
  http1.close();
  await closed;
}
