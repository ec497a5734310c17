// One TCP port, two protocols. The sidecar config stream is a long-lived bidirectional HTTP/2 stream: that gives
// xDS semantics (server push plus ACK/NACK on one stream, and a disconnect is noticed the moment the connection
// drops) without protobuf code generation. REST for the CLI and curl stays plain HTTP/1.1 on the same port, so
// there is one address to configure. A net.Server peeks at the first bytes of each connection: HTTP/2 with prior
// knowledge (h2c) always opens with the fixed connection preface, anything else is HTTP/1.1.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** A client that sends neither a full preface nor a request line in this time is dropped. */
const SNIFF_TIMEOUT_MS = 10_000;

export type SniffingServer = {
  server: net.Server;
  http1: http.Server;
  http2: http2.Http2Server;
  /** Stops accepting and drops every connection (config streams included: sidecars reconnect and fail static). */
  close: () => Promise<void>;
};

export function createSniffingServer({
  onRequest,
  onStream,
}: {
  onRequest: http.RequestListener;
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
}): SniffingServer {
  const http1 = http.createServer(onRequest);
  const h2 = http2.createServer();
  h2.on("stream", onStream);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // A session error (peer reset, protocol error) must not crash the process; its streams see 'close'.
    session.on("error", () => {});
  });

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const compared = Math.min(buffered.length, H2_PREFACE.length);
      const looksLikeH2 = buffered.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
      if (looksLikeH2 && buffered.length < H2_PREFACE.length) return; // wait for the rest of the preface
      socket.off("data", onData);
      socket.setTimeout(0);
      if (looksLikeH2) {
        // The HTTP/2 session reads bytes already buffered on the socket when it starts, so unshift hands them over.
        socket.pause();
        socket.unshift(buffered);
        h2.emit("connection", socket);
        return;
      }
      // The HTTP/1.1 server reads straight from the socket handle and would miss unshifted bytes; its parser
      // is fed through the socket's 'data' listener instead.
      http1.emit("connection", socket);
      socket.emit("data", buffered);
    };
    socket.on("data", onData);
  });

  const close = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return { server, http1, http2: h2, close };
}
