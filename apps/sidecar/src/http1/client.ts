// The client side of the sidecar's HTTP/1.1 engine: keep-alive connections to upstream endpoints (plain or mTLS)
// and one request at a time on each. A cluster's pool (outbound/pools.ts) decides which connection a request gets;
// this file is the wire: writing the request, reading the response head and body off the socket, and telling the
// pool when the connection is free again or gone.
import { EventEmitter } from "node:events";
import net from "node:net";
import tls from "node:tls";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { BodyStream } from "./body-stream.ts";
import { CHUNK_END, createChunkedDecoder, encodeChunkHead, LAST_CHUNK, type ChunkedDecoder } from "./chunked.ts";
import { INCOMPLETE, parseResponseHead, serializeHead } from "./wire.ts";

export type UpstreamRequestOptions = { host: string; port: number; method: string; path: string; headers: OutgoingHttpHeaders; timeout?: number };

/** Methods whose requests carry no body unless they say so (Node's ClientRequest: no chunked encoding by default). */
const BODYLESS_BY_DEFAULT = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

/** The response to an UpstreamRequest, IncomingMessage-like: status, headers, and the body (BodyStream). */
export class UpstreamResponse extends BodyStream {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  private readonly connection: UpstreamConnection;

  constructor(statusCode: number, statusMessage: string, headers: IncomingHttpHeaders, connection: UpstreamConnection) {
    super(connection.socket);
    this.statusCode = statusCode;
    this.statusMessage = statusMessage;
    this.headers = headers;
    this.connection = connection;
  }

  /**
   * Abandons the response: while it is still arriving the connection is closed (its unread rest could not be reused);
   * once complete, the connection is back in the pool, perhaps serving another request, and only the unread rest of
   * this body is dropped.
   */
  destroy(): this {
    if (!this.complete) this.connection.socket.destroy();
    else this.drop();
    return this;
  }

  /** The connection closed before the body was complete. */
  aborted(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("aborted");
  }
}

/**
 * One request to an upstream, ClientRequest-like: the head goes out with the first write or end() (or when the pool
 * assigns a connection, if later), the body as written (chunked unless a Content-Length was given).
 *
 * Events: 'connecting' (a new connection is being made for it), 'connect' (that connection is up; a reused one is
 * up already: `connected`), 'response' (UpstreamResponse), 'error' (before a response: no connection, or it
 * broke), 'drain', 'timeout' (`timeout` option), 'close' (the exchange is over, however it ended).
 */
export class UpstreamRequest extends EventEmitter {
  readonly method: string;
  readonly options: UpstreamRequestOptions;
  /** The connection it was written on is established (a connect failure and a reset differ by this). */
  connected = false;
  /** A new connection is being made for it (its connect timeout runs). */
  connecting = false;
  destroyed = false;
  /** Whether the connection may carry another request after this one. */
  shouldKeepAlive = true;
  /** Bytes written while no connection was assigned yet. */
  writableLength = 0;
  connection: UpstreamConnection | null = null;
  response: UpstreamResponse | null = null;
  /** The request, through its body, has been handed to the socket. */
  ended = false;
  private pending: Array<Buffer | string> | null = [];
  private headSent = false;
  private chunked = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Called by the pool when the request is over or abandoned, to take it out of its queue. */
  onAbandon: (() => void) | null = null;

  constructor(options: UpstreamRequestOptions) {
    super();
    this.options = options;
    this.method = options.method;
    if (options.timeout !== undefined) this.timer = setTimeout(() => this.emit("timeout"), options.timeout);
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || this.ended) return false;
    const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (size === 0) return true;
    if (!this.headSent) this.chunked = this.decideFraming(false);
    if (this.connection === null) {
      this.queue(this.chunked ? [encodeChunkHead(size), chunk, CHUNK_END] : [chunk], size);
      return true;
    }
    return this.connection.writeBody(this, chunk, size, this.chunked);
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.ended) return this;
    if (chunk !== undefined) this.write(chunk);
    if (!this.headSent) this.chunked = this.decideFraming(true);
    this.ended = true;
    if (this.connection === null) {
      if (this.chunked) this.queue([LAST_CHUNK], 0);
      return this;
    }
    this.connection.endBody(this, this.chunked);
    return this;
  }

  /** Content-Length when given (or known at end()), else chunked for a body. Returns whether it is chunked. */
  private decideFraming(ending: boolean): boolean {
    this.headSent = true;
    const { headers } = this.options;
    if (headers["content-length"] !== undefined) return false;
    const te = headers["transfer-encoding"];
    if (te !== undefined) return String(te).toLowerCase().endsWith("chunked");
    if (ending) {
      if (!BODYLESS_BY_DEFAULT.has(this.method)) headers["content-length"] = 0;
      return false;
    }
    headers["transfer-encoding"] = "chunked";
    return true;
  }

  private queue(parts: Array<Buffer | string>, size: number): void {
    (this.pending ??= []).push(...parts);
    this.writableLength += size;
  }

  /** The head, as serialized when the connection is assigned (the framing headers are final by then or set here). */
  head(): string {
    const { options } = this;
    const headers = options.headers;
    if (headers.host === undefined) headers.host = `${options.host}:${options.port}`;
    if (!this.shouldKeepAlive) headers.connection = "close";
    return serializeHead(`${options.method} ${options.path} HTTP/1.1`, headers);
  }

  /** The pool assigned `connection`: what was written so far goes out now. */
  assign(connection: UpstreamConnection): void {
    this.connection = connection;
    const pending = this.pending;
    this.pending = null;
    this.writableLength = 0;
    connection.start(this, pending, this.ended || this.headSent);
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (this.connection !== null && !this.closed) this.connection.socket.destroy();
    this.finish();
    return this;
  }

  /** The exchange is over (response complete, failure, or destroy): 'close', once. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.onAbandon?.();
    this.onAbandon = null;
    this.emit("close");
  }

  isFinished(): boolean {
    return this.closed;
  }

  fail(error: Error): void {
    if (this.closed) return;
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.finish();
  }
}

export type ConnectionEvents = {
  /** The exchange on it finished and the connection can carry another request. */
  onFree: (connection: UpstreamConnection) => void;
  /** The connection closed (error, peer close, or destroy). */
  onClose: (connection: UpstreamConnection) => void;
};

/** One upstream connection; the pool owns it and gives it one request at a time. */
export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly key: string;
  readonly generation: number;
  /** Established (TCP connected, or the TLS handshake and peer check passed). */
  up = false;
  served = 0;
  idleTimer: NodeJS.Timeout | undefined;
  private request: UpstreamRequest | null = null;
  private buffered: Buffer | null = null;
  private response: UpstreamResponse | null = null;
  private bodyLeft = 0;
  private decoder: ChunkedDecoder | null = null;
  private untilClose = false;
  private keepAlive = true;
  /** The current request's head is on the wire (it waits for the first write or end() to know its framing). */
  private headWritten = false;
  private lastError: Error | null = null;
  private readonly events: ConnectionEvents;

  constructor(key: string, generation: number, socket: net.Socket, events: ConnectionEvents) {
    this.key = key;
    this.generation = generation;
    this.socket = socket;
    this.events = events;
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("error", (error: Error) => (this.lastError = error));
    socket.once("close", () => this.closed());
    socket.once("end", () => {
      if (this.untilClose) this.completeResponse();
    });
  }

  static open(key: string, generation: number, target: { host: string; port: number }, tlsOptions: tls.ConnectionOptions | null, events: ConnectionEvents, onUp: (connection: UpstreamConnection) => void): UpstreamConnection {
    const socket = tlsOptions === null ? net.connect({ host: target.host, port: target.port, noDelay: true }) : tls.connect({ ...tlsOptions, host: target.host, port: target.port });
    if (tlsOptions !== null) socket.setNoDelay(true);
    const connection = new UpstreamConnection(key, generation, socket, events);
    socket.once(tlsOptions === null ? "connect" : "secureConnect", () => {
      connection.up = true;
      onUp(connection);
    });
    return connection;
  }

  busy(): boolean {
    return this.request !== null;
  }

  start(request: UpstreamRequest, pending: Array<Buffer | string> | null, headReady: boolean): void {
    this.request = request;
    this.served += 1;
    this.keepAlive = request.shouldKeepAlive;
    clearTimeout(this.idleTimer);
    // A body nobody read paused the socket (backpressure); this exchange reads it again.
    this.socket.resume();
    if (this.up) request.connected = true;
    // The head goes out now if the framing is known (a write or end came first); else with the first write or end.
    if (headReady) {
      const { socket } = this;
      socket.cork();
      socket.write(request.head(), "latin1");
      if (pending !== null) for (const part of pending) socket.write(part);
      socket.uncork();
      this.headWritten = true;
    }
  }

  writeBody(request: UpstreamRequest, chunk: Buffer | string, size: number, chunked: boolean): boolean {
    const { socket } = this;
    socket.cork();
    if (!this.headWritten) {
      socket.write(request.head(), "latin1");
      this.headWritten = true;
    }
    let ok: boolean;
    if (chunked) {
      socket.write(encodeChunkHead(size), "latin1");
      socket.write(chunk);
      ok = socket.write(CHUNK_END, "latin1");
    } else ok = socket.write(chunk);
    socket.uncork();
    if (!ok) socket.once("drain", () => request.emit("drain"));
    return ok;
  }

  endBody(request: UpstreamRequest, chunked: boolean): void {
    const { socket } = this;
    if (!this.headWritten) {
      socket.cork();
      socket.write(request.head(), "latin1");
      this.headWritten = true;
      if (chunked) socket.write(LAST_CHUNK, "latin1");
      socket.uncork();
    } else if (chunked) socket.write(LAST_CHUNK, "latin1");
    if (this.response?.complete === true) this.release();
  }

  private read(chunk: Buffer): void {
    const request = this.request;
    if (request === null) {
      // Bytes nobody asked for (an idle connection): the peer is out of step; do not reuse it.
      this.socket.destroy();
      return;
    }
    if (this.response !== null) {
      this.feedBody(chunk, 0);
      return;
    }
    const buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = null;
    this.parseHead(buf, request);
  }

  private parseHead(buf: Buffer, request: UpstreamRequest): void {
    let at = 0;
    for (;;) {
      const head = parseResponseHead(at === 0 ? buf : buf.subarray(at), request.method);
      if (head === INCOMPLETE) {
        this.buffered = at === 0 ? buf : buf.subarray(at);
        return;
      }
      if (head instanceof Error) {
        this.lastError = Object.assign(new Error(`upstream sent a malformed response: ${head.message}`), { code: "HPE_INVALID_RESPONSE" });
        this.socket.destroy();
        return;
      }
      at += head.headBytes;
      if (head.status >= 100 && head.status < 200) {
        if (head.status === 101) {
          this.lastError = Object.assign(new Error("upstream switched protocols on a request that did not ask to upgrade"), { code: "HPE_INVALID_RESPONSE" });
          this.socket.destroy();
          return;
        }
        continue; // 100 Continue, 103 Early Hints: the real response follows
      }
      if (!head.keepAlive) this.keepAlive = false;
      const response = new UpstreamResponse(head.status, head.statusMessage, head.headers, this);
      this.response = response;
      request.response = response;
      if (head.body === "chunked") {
        this.decoder = createChunkedDecoder();
        this.bodyLeft = -1;
      } else if (head.body === "close") {
        this.untilClose = true;
        this.bodyLeft = -1;
      } else this.bodyLeft = head.body;
      request.emit("response", response);
      if (this.bodyLeft !== 0) {
        if (at < buf.length) this.feedBody(buf, at);
        return;
      }
      if (at < buf.length) this.keepAlive = false; // bytes after a bodiless response: out of step, not reused
      this.completeResponse();
      return;
    }
  }

  private feedBody(buf: Buffer, at: number): void {
    const response = this.response as UpstreamResponse;
    if (this.untilClose) {
      response.push(at === 0 ? buf : buf.subarray(at), false);
      return;
    }
    // Bytes past the end of the response mean the upstream is out of step with us (or pipelining we never asked
    // for): the connection is not reused. Checked before the response completes, which hands the connection back.
    if (this.decoder === null) {
      const n = Math.min(this.bodyLeft, buf.length - at);
      this.bodyLeft -= n;
      const data = at === 0 && n === buf.length ? buf : buf.subarray(at, at + n);
      if (this.bodyLeft > 0) {
        response.push(data, false);
        return;
      }
      if (at + n < buf.length) this.keepAlive = false;
      response.push(data, true);
      this.completeResponse();
      return;
    }
    const used = this.decoder.feed(buf, at, (data) => response.push(data, false));
    if (used < 0) {
      this.lastError = Object.assign(new Error("upstream sent a malformed chunked body"), { code: "HPE_INVALID_CHUNK_SIZE" });
      this.socket.destroy();
      return;
    }
    if (!this.decoder.done()) return;
    if (at + used < buf.length) this.keepAlive = false;
    response.push(null, true);
    this.completeResponse();
  }

  private completeResponse(): void {
    const response = this.response;
    if (response === null) return;
    if (!response.complete) response.push(null, true);
    if (this.request?.ended === true) this.release();
  }

  /** Request sent and response read: the exchange is over; the connection goes back to the pool or closes. */
  private release(): void {
    const request = this.request;
    if (request === null) return;
    this.request = null;
    this.response = null;
    this.decoder = null;
    this.headWritten = false;
    this.untilClose = false;
    this.buffered = null;
    request.finish();
    if (this.keepAlive && !this.socket.destroyed) this.events.onFree(this);
    else this.socket.destroy();
  }

  private closed(): void {
    const request = this.request;
    this.request = null;
    if (request !== null) {
      const error = this.lastError ?? Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      const response = this.response;
      if (response !== null && !response.complete) response.aborted(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
      if (response === null) request.fail(error);
      else request.finish();
    }
    this.events.onClose(this);
  }

  /** Why the connection failed, for the pool's waiters. */
  error(): Error | null {
    return this.lastError;
  }
}
