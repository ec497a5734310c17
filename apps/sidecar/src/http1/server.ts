// The server side of the sidecar's HTTP/1.1 engine: reads requests straight off the connection (plain or TLS) and
// hands the server's 'request' listeners a small request / response pair that behaves like Node's IncomingMessage /
// ServerResponse in the parts the proxy uses (types.ts). Node's http server costs the sidecar several times what a
// proxy hop needs (its parser callbacks, streams and per-request objects); bench/results/sidecar-profile.md.
//
// Only the common case is taken here (wire.ts parseRequestHead): anything else — HTTP/1.0, upgrades, absolute-form
// targets, malformed or oversized heads — hands the connection, at that request's boundary and with the bytes read
// so far, to Node's own server on the same http.Server, which from then on runs it as before (its 'upgrade'
// handlers, its 400/431 answers to bad input).
import { EventEmitter } from "node:events";
import { BodyStream } from "./body-stream.ts";
import type http from "node:http";
import type { Socket } from "node:net";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { CHUNK_END, createChunkedDecoder, encodeChunkHead, LAST_CHUNK, type ChunkedDecoder } from "./chunked.ts";
import { FALLBACK, INCOMPLETE, parseRequestHead, serializeHead, STATUS_CODES, type RequestHead } from "./wire.ts";

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
class Connection {
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

/** The incoming request, IncomingMessage-like: method, url, headers, httpVersion, socket, and the body (BodyStream). */
export class FastRequest extends BodyStream {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion = "1.1";
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly socket: Socket;

  constructor(head: RequestHead, socket: Socket) {
    super(socket);
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.socket = socket;
  }

  /** The request had no body: 'end' comes once someone reads. */
  finish(): void {
    this.push(null, true);
  }

  /** The connection closed under the request. */
  aborted(): void {
    if (!this.complete && this.listenerCount("error") > 0) this.emit("error", Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
    this.emit("close");
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }
}

/** Date header values, made once a second (Node's ServerResponse adds one to every response). */
let dateCache = "";
let dateSecond = 0;
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

/**
 * The response, ServerResponse-like: writeHead stores the head and the first write or end sends it, so a whole small
 * response (head, body, chunked terminator) leaves in one write. Without Content-Length the body is chunked unless
 * end() gives all of it at once; HEAD, 204 and 304 carry no body.
 */
export class FastResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  writableFinished = false;
  destroyed = false;
  shouldKeepAlive: boolean;
  readonly req: FastRequest;
  readonly socket: Socket;
  private readonly connection: Connection;
  private headers: OutgoingHttpHeaders | null = null;
  private chunked = false;
  private hasBody = true;
  private closeEmitted = false;

  constructor(connection: Connection, req: FastRequest, socket: Socket, keepAlive: boolean) {
    super();
    this.connection = connection;
    this.req = req;
    this.socket = socket;
    this.shouldKeepAlive = keepAlive;
  }

  writeHead(status: number, reason?: string | OutgoingHttpHeaders, headers?: OutgoingHttpHeaders): this {
    this.statusCode = status;
    if (typeof reason === "string") this.statusMessage = reason;
    else if (reason !== undefined) headers = reason;
    this.headers = headers ?? {};
    return this;
  }

  /** Serializes the head; `whole` is the entire body when end() gives it at once (so Content-Length can be set). */
  private head(whole: Buffer | string | undefined, ending: boolean): string {
    const headers = this.headers ?? {};
    const status = this.statusCode;
    this.headersSent = true;
    this.hasBody = this.req.method !== "HEAD" && status !== 204 && status !== 304 && !(status >= 100 && status < 200);
    // The framing and connection headers go after the caller's (whose object is left as it was, as Node does).
    let extra = "";
    if (headers["content-length"] === undefined && this.hasBody) {
      const te = headers["transfer-encoding"];
      if (te !== undefined) this.chunked = String(te).toLowerCase().endsWith("chunked");
      else if (ending) extra += `content-length: ${whole === undefined ? 0 : Buffer.byteLength(whole)}\r\n`;
      else {
        extra += "transfer-encoding: chunked\r\n";
        this.chunked = true;
      }
    }
    const connection = headers.connection;
    if (connection !== undefined) {
      if (String(connection).toLowerCase().includes("close")) this.shouldKeepAlive = false;
    } else if (!this.shouldKeepAlive) extra += "connection: close\r\n";
    // As Node's server says it: clients' pools (Node's agent among them) retire a connection before this timeout
    // instead of racing our close with their next request.
    else extra += this.connection.keepAliveLines;
    if (headers.date === undefined) extra += `date: ${httpDate()}\r\n`;
    return serializeHead(`HTTP/1.1 ${status} ${this.statusMessage || STATUS_CODES[status] || "unknown"}`, headers, extra);
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || this.writableFinished) return false;
    const { socket } = this;
    if (!this.headersSent) {
      const head = this.head(undefined, false);
      socket.cork();
      socket.write(head, "latin1");
      const ok = this.writeBody(chunk);
      socket.uncork();
      return ok;
    }
    return this.writeBody(chunk);
  }

  private writeBody(chunk: Buffer | string): boolean {
    if (!this.hasBody) return true;
    const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (size === 0) return true;
    const { socket } = this;
    let ok: boolean;
    if (this.chunked) {
      socket.cork();
      socket.write(encodeChunkHead(size), "latin1");
      socket.write(chunk);
      ok = socket.write(CHUNK_END, "latin1");
      socket.uncork();
    } else ok = socket.write(chunk);
    if (!ok) socket.once("drain", () => this.emit("drain"));
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.writableFinished) return this;
    const { socket } = this;
    socket.cork();
    if (!this.headersSent) socket.write(this.head(chunk, true), "latin1");
    if (chunk !== undefined) this.writeBody(chunk);
    if (this.chunked && this.hasBody) socket.write(LAST_CHUNK, "latin1");
    socket.uncork();
    this.writableFinished = true;
    this.connection.responseDone(this);
    process.nextTick(() => this.emitClose());
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.socket.destroy();
    return this;
  }

  /** The connection closed under the response. */
  aborted(): void {
    this.destroyed = true;
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit("close");
  }
}
