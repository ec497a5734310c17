// The request / response pair the engine's server (server.ts) hands to 'request' listeners: IncomingMessage- and
// ServerResponse-like in what the proxy uses (types.ts), at a fraction of their cost per request.
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { BodyStream } from "./body-stream.ts";
import { CHUNK_END, encodeChunkHead, LAST_CHUNK } from "./chunked.ts";
import { serializeHead } from "./head-writer.ts";
import type { RequestHead } from "./wire.ts";

/** The connection a response is written on (server.ts): told when the response is complete. */
export type ResponseOwner = {
  responseDone: (res: FastResponse) => void;
  /** The Connection and Keep-Alive header lines kept-alive responses carry. */
  readonly keepAliveLines: string;
};

/** The incoming request, IncomingMessage-like: method, url, headers, httpVersion, socket, and the body (BodyStream). */
export class FastRequest extends BodyStream {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion = "1.1";
  readonly httpVersionMajor = 1;
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
  private readonly connection: ResponseOwner;
  private headers: OutgoingHttpHeaders | null = null;
  private chunked = false;
  private hasBody = true;
  private closeEmitted = false;

  constructor(connection: ResponseOwner, req: FastRequest, socket: Socket, keepAlive: boolean) {
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
