// The server side of the sidecar's HTTP/1.1 engine: reads requests straight off the connection (plain or TLS) and
// hands the server's 'request' listeners a small request / response pair that behaves like Node's IncomingMessage /
// ServerResponse in the parts the proxy uses (types.ts). Node's http server costs the sidecar several times what a
// proxy hop needs (its parser callbacks, streams and per-request objects); bench/results/sidecar-profile.md.
//
// Only the common case is taken here (wire.ts parseRequestHead): anything else — HTTP/1.0, upgrades, absolute-form
// targets, malformed or oversized heads — hands the connection, at that request's boundary and with the bytes read
// so far, to Node's own server on the same http.Server, which from then on runs it as before (its 'upgrade'
// handlers, its 400/431 answers to bad input).
import type http from "node:http";
import type { Socket } from "node:net";
import { createChunkedDecoder, type ChunkedDecoder } from "./chunked.ts";
import { FastRequest, FastResponse, type ResponseOwner } from "./server-messages.ts";
import { FALLBACK, INCOMPLETE, parseRequestHead, type RequestHead } from "./wire.ts";

type ConnectionListener = (socket: Socket) => void;

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
/** A head that has not finished arriving this long after its first byte, or an idle connection, is closed. */
const HEADERS_TIMEOUT_MS = 60_000;

/**
 * Puts the engine in front of `server`'s connection handling: connections `server` is given (by listening or by
 * `server.emit("connection", socket)`) are read here, and requests go to its 'request' listeners. Idle-connection
 * closing (`closeIdleConnections`, `closeAllConnections`) covers both kinds of connection.
 */
export function installHttp1Engine(server: http.Server): void {
  const nodeListeners = server.listeners("connection") as ConnectionListener[];
  server.removeAllListeners("connection");
  const connections = new Set<Connection>();
  const handOff = (socket: Socket, buffered: Buffer | null) => {
    for (const listener of nodeListeners) listener.call(server, socket);
    // Node's server reads the socket's handle directly from here (for plain TCP): what was read already goes to its
    // parser first, synchronously, before anything later can arrive.
    if (buffered !== null && buffered.length > 0) socket.emit("data", buffered);
  };
  server.on("connection", (socket: Socket) => {
    const connection = new Connection(socket, server, connections, handOff);
    connections.add(connection);
  });
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    for (const connection of connections) if (connection.idle()) connection.socket.destroy();
    closeIdle();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    for (const connection of connections) connection.socket.destroy();
    closeAll();
  };
}

/** One client connection: parses heads, feeds request bodies, writes responses, one exchange at a time. */
class Connection implements ResponseOwner {
  readonly socket: Socket;
  private readonly server: http.Server;
  private readonly connections: Set<Connection>;
  private readonly handOff: (socket: Socket, buffered: Buffer | null) => void;
  /** Bytes read and not yet used: a partial head, or what arrived after the current request's body (pipelining). */
  private buffered: Buffer | null = null;
  private req: FastRequest | null = null;
  private res: FastResponse | null = null;
  /** Body bytes of the current request still to come (Content-Length framing), or -1 for chunked. */
  private bodyLeft = 0;
  private decoder: ChunkedDecoder | null = null;
  private readonly onData = (chunk: Buffer) => this.read(chunk);
  private readonly onEnd = () => {
    if (!this.socket.destroyed) this.socket.end();
  };
  /** Inside nextRequest's loop (responseDone must not start the next request itself). */
  private dispatching = false;
  /** The Connection and Keep-Alive header lines kept-alive responses carry. */
  readonly keepAliveLines: string;
  /** Between requests, and for a head to arrive, after which the connection is closed. */
  private readonly idleTimeoutMs: number;
  /**
   * The socket's own idle timer (re-armed by every read and write) stays on for the connection's life, rather than
   * being switched off and on around each request: it closes a connection idle between requests or stuck in a head,
   * and leaves one alone while a request is in flight (a slow upstream is the route timeout's business).
   */
  private readonly onTimeout = () => {
    if (this.res === null) this.socket.destroy();
  };

  constructor(socket: Socket, server: http.Server, connections: Set<Connection>, handOff: (socket: Socket, buffered: Buffer | null) => void) {
    this.socket = socket;
    this.server = server;
    this.connections = connections;
    this.handOff = handOff;
    this.idleTimeoutMs = server.keepAliveTimeout > 0 ? server.keepAliveTimeout : HEADERS_TIMEOUT_MS;
    this.keepAliveLines = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(this.idleTimeoutMs / 1000)}\r\n`;
    socket.setNoDelay(true);
    socket.on("data", this.onData);
    socket.on("error", noop); // 'close' follows
    // The client closed its side: as Node's server (no half-open HTTP), end ours; 'close' then tells the exchange.
    socket.on("end", this.onEnd);
    socket.once("close", () => this.closed());
    // One listener for the connection's life: setTimeout(ms, callback) would add another on every call.
    socket.on("timeout", this.onTimeout);
    socket.setTimeout(this.idleTimeoutMs);
    socket.resume();
  }

  /** No request in flight and no partial head: safe to close without cutting anyone off. */
  idle(): boolean {
    return this.res === null && this.buffered === null;
  }

  private read(chunk: Buffer): void {
    if (this.req !== null && this.requestBodyPending()) {
      const rest = this.feedBody(chunk, 0);
      if (rest === null) return;
      if (this.res === null) this.bodyDiscarded();
      chunk = rest;
      if (chunk.length === 0) return;
    }
    this.buffered = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.res === null) this.nextRequest();
    else this.socket.pause(); // pipelined: the next request waits for this response
  }

  private requestBodyPending(): boolean {
    return this.bodyLeft !== 0;
  }

  /**
   * Starts the exchanges of the requests buffered, one at a time, while each is answered at once (in its 'request'
   * event); or hands the connection to Node. A loop rather than recursion from responseDone, so a burst of pipelined
   * requests cannot grow the stack.
   */
  private nextRequest(): void {
    this.dispatching = true;
    try {
      while (this.res === null && this.buffered !== null && !this.requestBodyPending()) {
        const buf = this.buffered;
        const head = parseRequestHead(buf);
        if (head === INCOMPLETE) return;
        if (head === FALLBACK) {
          this.detach();
          this.handOff(this.socket, buf);
          return;
        }
        this.buffered = null;
        this.start(head, buf);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.res !== null && this.buffered !== null) this.socket.pause(); // pipelined: the next waits for this response
  }

  private start(head: RequestHead, buf: Buffer): void {
    const { socket } = this;
    const req = new FastRequest(head, socket);
    const res = new FastResponse(this, req, socket, !head.close);
    this.req = req;
    this.res = res;
    (socket as SocketWithMessage)._httpMessage = res; // what the drain (drain.ts) looks at
    if (head.body === "chunked") {
      this.bodyLeft = -1;
      this.decoder = createChunkedDecoder();
    } else {
      this.bodyLeft = head.body;
      if (head.body === 0) req.finish();
    }
    if (head.expectContinue && head.body !== 0) socket.write(CONTINUE);
    // Body bytes that came with the head wait in the request (it is paused) until the handler reads them.
    if (buf.length > head.headBytes) {
      const rest = this.bodyLeft !== 0 ? this.feedBody(buf, head.headBytes) : buf.subarray(head.headBytes);
      if (rest !== null && rest.length > 0) this.buffered = rest;
    }
    this.server.emit("request", req, res);
  }

  /** Feeds body bytes from `buf` at `at` to the current request; returns what follows the body (null: none yet). */
  private feedBody(buf: Buffer, at: number): Buffer | null {
    const req = this.req as FastRequest;
    if (this.bodyLeft > 0) {
      const n = Math.min(this.bodyLeft, buf.length - at);
      this.bodyLeft -= n;
      const last = this.bodyLeft === 0;
      req.push(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n), last);
      return last ? buf.subarray(at + n) : null;
    }
    const decoder = this.decoder as ChunkedDecoder;
    const used = decoder.feed(buf, at, (data) => req.push(data, false));
    if (used < 0) {
      // Broken chunked framing: nothing more on this connection can be trusted.
      this.socket.destroy();
      return null;
    }
    if (!decoder.done()) return null;
    this.bodyLeft = 0;
    this.decoder = null;
    req.push(null, true);
    return buf.subarray(at + used);
  }

  /** The response was written in full: the connection carries the next request, or closes. */
  responseDone(res: FastResponse): void {
    if (res !== this.res) return;
    const { socket } = this;
    const req = this.req as FastRequest;
    (socket as SocketWithMessage)._httpMessage = null;
    if (!res.shouldKeepAlive) {
      this.res = null;
      this.req = null;
      socket.end();
      return;
    }
    if (this.requestBodyPending()) {
      // Answered before the whole body came in (a local reply): the rest is read and dropped, then the next request.
      req.drop();
    }
    this.res = null;
    this.req = null;
    if (this.requestBodyPending()) {
      this.req = req; // the body keeps draining into the discarded request
      return;
    }
    socket.resume();
    if (!this.dispatching) this.nextRequest();
  }

  /** The body of a request answered early has been read to its end: the connection is ready for the next one. */
  private bodyDiscarded(): void {
    this.req = null;
  }

  private detach(): void {
    const { socket } = this;
    socket.off("data", this.onData);
    socket.off("end", this.onEnd);
    socket.off("error", noop);
    socket.setTimeout(0);
    socket.off("timeout", this.onTimeout);
    this.connections.delete(this);
  }

  private closed(): void {
    this.connections.delete(this);
    this.req?.aborted();
    this.res?.aborted();
    this.req = null;
    this.res = null;
  }
}

type SocketWithMessage = Socket & { _httpMessage?: unknown };

function noop(): void {}
