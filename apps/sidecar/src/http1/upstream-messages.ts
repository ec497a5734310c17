// One request to an upstream and its response, as the proxy handles them (ClientRequest- and IncomingMessage-like in
// what it uses); client.ts's UpstreamConnection writes the one and reads the other off the socket.
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { BodyStream } from "./body-stream.ts";
import { CHUNK_END, encodeChunkHead, LAST_CHUNK } from "./chunked.ts";
import type { UpstreamConnection } from "./client.ts";
import { serializeHead } from "./head-writer.ts";

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
  connection: UpstreamConnection | null = null;
  /** The request, through its body, has been handed to the socket. */
  ended = false;
  /** What was written before a connection was assigned, and its body bytes. */
  private pending: Array<Buffer | string> | null = [];
  private pendingBytes = 0;
  /** The body's framing is decided (by the first write or end()), so the head can go out. */
  private framed = false;
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

  /** Bytes written and not yet sent, queued here or in the socket (a mirror that lags is dropped by this). */
  get writableLength(): number {
    return this.connection === null ? this.pendingBytes : this.connection.socket.writableLength;
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || this.ended) return false;
    const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (size === 0) return true;
    if (!this.framed) this.chunked = this.decideFraming(false);
    if (this.connection === null) {
      this.queue(this.chunked ? [encodeChunkHead(size), chunk, CHUNK_END] : [chunk], size);
      return true;
    }
    return this.connection.writeBody(this, chunk, size, this.chunked);
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.ended) return this;
    if (chunk !== undefined) this.write(chunk);
    if (!this.framed) this.chunked = this.decideFraming(true);
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
    this.framed = true;
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
    this.pendingBytes += size;
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
    this.pendingBytes = 0;
    connection.start(this, pending, this.framed);
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

  fail(error: Error): void {
    if (this.closed) return;
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.finish();
  }
}
