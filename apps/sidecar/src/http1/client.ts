// The client side of the sidecar's HTTP/1.1 engine: keep-alive connections to upstream endpoints (plain or mTLS)
// and one request at a time on each. A cluster's pool (outbound/pools.ts) decides which connection a request gets;
// this file is the wire: writing the request, reading the response head and body off the socket, and telling the
// pool when the connection is free again or gone.
import net from "node:net";
import tls from "node:tls";
import { CHUNK_END, createChunkedDecoder, encodeChunkHead, LAST_CHUNK, type ChunkedDecoder } from "./chunked.ts";
import { UpstreamResponse, type UpstreamRequest } from "./upstream-messages.ts";
import { INCOMPLETE, parseResponseHead } from "./wire.ts";

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
