// Lets one HTTP/1.1 listener also accept h2c (HTTP/2 with prior knowledge, as gRPC clients and curl
// --http2-prior-knowledge send it): the first bytes of each connection are compared with the HTTP/2 client preface
// and the connection goes to an http2 server or to the HTTP/1.1 server's own connection handling. Everything else
// about the http.Server (listen, drain on close, keep-alive) stays as it was.
import type http from "node:http";
import http2 from "node:http2";
import type { Socket } from "node:net";
import { classifyFirstBytes } from "../transport/first-bytes.ts";
import type { H2StreamHandler } from "./h2-outbound.ts";

const FIRST_BYTES_TIMEOUT_MS = 10_000;

export type H2cAttachment = { h2: http2.Http2Server };

/**
 * Sends h2c connections of `server` to `onStream`. `server.close()` also sends GOAWAY on open HTTP/2 sessions so
 * in-flight streams finish and the sidecar's drain applies to them, and `closeAllConnections()` cuts them too.
 */
export function acceptH2c(server: http.Server, onStream: H2StreamHandler): H2cAttachment {
  const h2 = http2.createServer();
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {}); // a broken connection; its streams report their own end
  });
  h2.on("stream", onStream);

  const http1 = server.listeners("connection") as Array<(socket: Socket) => void>;
  server.removeAllListeners("connection");
  // Connections that have not said which protocol yet: idle by definition, so closing idle connections (the drain)
  // closes them too rather than waiting for their first-bytes timeout.
  const sniffing = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sniffing.add(socket);
    socket.once("close", () => sniffing.delete(socket));
    sniffPreface(socket, (isH2) => {
      sniffing.delete(socket);
      if (isH2) {
        h2.emit("connection", socket);
        return;
      }
      // The HTTP/1 server consumes the socket's handle directly, past what was read here, so the bytes read so far
      // go to its parser first and synchronously, before any later bytes can (as transport/listener.ts does).
      const head = readBuffered(socket);
      for (const listener of http1) listener.call(server, socket);
      if (head !== null) socket.emit("data", head);
      socket.resume();
    });
  });

  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => {
    for (const session of sessions) session.close();
    return close(callback);
  };
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    for (const socket of sniffing) socket.destroy();
    closeIdle();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    for (const socket of sniffing) socket.destroy();
    for (const session of sessions) session.destroy();
    closeAll();
  };
  return { h2 };
}

/** Reads until the first bytes say HTTP/2 preface or not (transport/first-bytes.ts), puts them back, and says which. */
export function sniffPreface(socket: Socket, dispatch: (isH2: boolean) => void): void {
  let seen: Buffer | null = null;
  const onError = () => socket.destroy();
  // The client left before saying anything. The HTTP server keeps connections half-open, so without this the
  // socket would linger (CLOSE-WAIT) until the first-bytes timeout, and hold a drain up that long.
  const onEnd = () => socket.destroy();
  const onData = (chunk: Buffer) => {
    seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const kind = classifyFirstBytes(seen);
    if (kind === "need-more") return;
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("end", onEnd);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(seen);
    // TLS on a plaintext listener goes to the HTTP/1.1 parser, which answers 400 and closes.
    dispatch(kind === "h2c");
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("end", onEnd);
  // A connection that says nothing is dropped, as the HTTP/1.1 server's own header timeout would have.
  socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
}

/** Everything buffered on a paused socket, as one buffer (null when nothing is). */
function readBuffered(socket: Socket): Buffer | null {
  const parts: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) parts.push(chunk);
  if (parts.length <= 1) return parts[0] ?? null;
  return Buffer.concat(parts);
}
