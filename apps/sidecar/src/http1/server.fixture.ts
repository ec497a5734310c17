// Helpers for the engine server's tests (server.int.test.ts, server-responses.int.test.ts): an engine server on
// loopback, a raw client that writes exact bytes and reads replies one by one, and Node's client where its parser is
// the judge.
import http from "node:http";
import { expect } from "vitest";
import net, { type AddressInfo } from "node:net";
import { answerBadInput } from "../proxy/client-error.ts";
import { installHttp1Engine } from "./server.ts";
import type { Http1Handler, Http1Request } from "./types.ts";

export const closers: Array<() => void> = [];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure naming what did not happen within READ_TIMEOUT_MS. */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, sleep(READ_TIMEOUT_MS).then(() => Promise.reject(new Error(`${what} did not come within ${READ_TIMEOUT_MS} ms`)))]);
}

export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}
/** How long a read waits before failing: an engine that stalls fails the test quickly, saying what it got. */
export const READ_TIMEOUT_MS = 2_000;

export async function startServer(handler: Http1Handler): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer();
  installHttp1Engine(server);
  answerBadInput(server);
  server.on("request", handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return { server, port: (server.address() as AddressInfo).port };
}

export type Reply = { status: number; headers: Record<string, string>; body: Buffer; raw: Buffer };

/** A raw client connection: exact bytes out, responses parsed here (so the engine's framing is checked, not trusted). */
export class RawClient {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  ended = false;
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("end", () => ((this.ended = true), this.wake?.()));
    socket.on("close", () => ((this.closed = true), this.wake?.()));
    socket.on("error", () => {}); // a reset shows as 'close'
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    await new Promise((resolve) => socket.once("connect", resolve));
    const client = new RawClient(socket);
    closers.push(() => socket.destroy());
    return client;
  }

  private received(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.wake?.();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends `data` in pieces of the given sizes (cycled), each its own write a moment apart. */
  async sendInPieces(data: string | Buffer, sizes: number[]): Promise<void> {
    const bytes = Buffer.from(data);
    for (let at = 0, i = 0; at < bytes.length; i += 1) {
      const size = sizes[i % sizes.length] as number;
      this.socket.write(bytes.subarray(at, at + size));
      at += size;
      await sleep(1);
    }
  }

  pending(): string {
    return this.buf.toString("latin1");
  }

  private async waitFor<T>(take: () => T | null, what: string): Promise<T> {
    const deadline = Date.now() + READ_TIMEOUT_MS;
    for (;;) {
      const value = take();
      if (value !== null) return value;
      if (this.closed) throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.pending())}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${READ_TIMEOUT_MS} ms; got ${JSON.stringify(this.pending())}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = null;
    }
  }

  /** The next response (interim ones included); `bodyless` for the answer to a HEAD. */
  readResponse(bodyless = false): Promise<Reply> {
    return this.waitFor(() => {
      const taken = takeResponse(this.buf, bodyless, this.ended);
      if (taken === null) return null;
      this.buf = this.buf.subarray(taken.used);
      return taken.reply;
    }, "complete response");
  }

  /** Waits until `text` has arrived (and leaves it buffered). */
  async readUntil(text: string): Promise<void> {
    await this.waitFor(() => (this.pending().includes(text) ? true : null), JSON.stringify(text));
  }

  async waitClosed(): Promise<void> {
    await this.waitFor(() => (this.closed ? true : null), "close");
  }
}

/** One response from the front of `buf`, or null until it is all there. Trailers are not expected from the engine. */
export function takeResponse(buf: Buffer, bodyless: boolean, ended: boolean): { reply: Reply; used: number } | null {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const [statusLine = "", ...lines] = buf.toString("latin1", 0, headEnd).split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (headers[name] !== undefined) throw new Error(`header ${name} sent twice: ${statusLine}`);
    headers[name] = line.slice(colon + 1).trim();
  }
  let at = headEnd + 4;
  const done = (body: Buffer) => ({ reply: { status, headers, body, raw: buf.subarray(0, at) }, used: at });
  if (bodyless || status === 204 || status === 304 || (status >= 100 && status < 200)) return done(Buffer.alloc(0));
  if (headers["transfer-encoding"] !== undefined) {
    expect(headers["transfer-encoding"]).toBe("chunked");
    expect(headers["content-length"]).toBeUndefined();
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return null;
      const sizeText = buf.toString("latin1", at, lineEnd);
      expect(sizeText).toMatch(/^[0-9a-f]+$/);
      const size = parseInt(sizeText, 16);
      if (buf.length < lineEnd + 2 + size + 2) return null;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      expect(buf.toString("latin1", lineEnd + 2 + size, lineEnd + 4 + size)).toBe("\r\n");
      at = lineEnd + 4 + size;
      if (size === 0) return done(Buffer.concat(parts));
    }
  }
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (buf.length < at + length) return null;
    at += length;
    return done(buf.subarray(at - length, at));
  }
  if (!ended) return null; // the body runs to the end of the connection
  at = buf.length;
  return done(buf.subarray(headEnd + 4));
}

export function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

/** Reads a request's body the way the proxy does: 'data' then 'end', noting `complete` at each chunk. */
export function readBody(req: Http1Request): Promise<{ body: Buffer; completeAtChunk: boolean[]; completeAtEnd: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const completeAtChunk: boolean[] = [];
    req.on("data", (chunk: Buffer) => (chunks.push(chunk), completeAtChunk.push(req.complete)));
    req.on("end", () => resolve({ body: Buffer.concat(chunks), completeAtChunk, completeAtEnd: req.complete }));
  });
}

/** A request through Node's client (its parser judges the engine's framing). */
export function nodeRequest(port: number, agent: http.Agent, path: string, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, agent }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

export function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  closers.push(() => agent.destroy());
  return agent;
}
