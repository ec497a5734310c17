// Helpers for the engine client's tests (client.int.test.ts, client-pool.int.test.ts): scripted raw servers that
// write exact response bytes and record each request as framed on the wire, plain Node servers, and a pool to send on.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { createClusterPool, type ClusterPool, type PoolLimits } from "../outbound/pools.ts";
import type { UpstreamRequest, UpstreamResponse } from "./upstream-messages.ts";

export const closers: Array<() => void> = [];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long an exchange may take before the test fails saying so (a stalled engine fails fast, not at 60 s). */
export const EXCHANGE_TIMEOUT_MS = 2_000;

export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, sleep(EXCHANGE_TIMEOUT_MS).then(() => Promise.reject(new Error(`${what} did not come within ${EXCHANGE_TIMEOUT_MS} ms`)))]);
}

/** What a scripted server read: one request, its body as framed on the wire, and which connection (0, 1, …) it came on. */
export type Received = { method: string; path: string; headers: Record<string, string>; body: Buffer; connection: number; socket: net.Socket };

export type Scripted = { port: number; received: Received[]; connections: () => number; closed: () => number };

/** A raw server: each complete request goes to `respond`, which writes whatever bytes the test wants. */
export async function scriptServer(respond: (request: Received) => void): Promise<Scripted> {
  const received: Received[] = [];
  let connections = 0;
  let closed = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on("error", () => {});
    socket.on("close", () => (closed += 1, sockets.delete(socket)));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let taken = takeRequest(buf); taken !== null; taken = takeRequest(buf)) {
        buf = buf.subarray(taken.used);
        const request = { ...taken.request, connection, socket };
        received.push(request);
        respond(request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (sockets.forEach((socket) => socket.destroy()), server.close()));
  return { port: (server.address() as AddressInfo).port, received, connections: () => connections, closed: () => closed };
}

/** One request from the front of `buf` (chunked bodies without trailers: the engine sends none), or null. */
export function takeRequest(buf: Buffer): { request: Omit<Received, "connection" | "socket">; used: number } | null {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const [line = "", ...lines] = buf.toString("latin1", 0, headEnd).split("\r\n");
  const [method = "", path = ""] = line.split(" ");
  const headers: Record<string, string> = {};
  for (const field of lines) {
    const colon = field.indexOf(":");
    headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
  }
  let at = headEnd + 4;
  if (headers["transfer-encoding"] === "chunked") {
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString("latin1", at, lineEnd), 16);
      if (buf.length < lineEnd + 4 + size) return null;
      at = lineEnd + 4 + size;
      if (size === 0) break;
    }
  } else if (headers["content-length"] !== undefined) {
    at += Number(headers["content-length"]);
    if (buf.length < at) return null;
  }
  return { request: { method, path, headers, body: buf.subarray(headEnd + 4, at) }, used: at };
}

/** Writes `data` in pieces of the given sizes (cycled), a moment apart, so they arrive as separate reads. */
export async function writeInPieces(socket: net.Socket, data: string, sizes: number[]): Promise<void> {
  const bytes = Buffer.from(data, "latin1");
  for (let at = 0, i = 0; at < bytes.length; i += 1) {
    const size = sizes[i % sizes.length] as number;
    socket.write(bytes.subarray(at, at + size));
    at += size;
    await sleep(2);
  }
}

export async function nodeServer(handler: http.RequestListener): Promise<{ port: number; connections: () => number; closed: () => number }> {
  let connections = 0;
  let closed = 0;
  const server = http.createServer(handler);
  server.on("connection", (socket: net.Socket) => (connections += 1, socket.on("close", () => (closed += 1))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, closed: () => closed };
}

export function newPool(limits: Partial<PoolLimits> = {}): ClusterPool {
  const pool = createClusterPool("t", () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined, ...limits });
  closers.push(() => pool.close());
  return pool;
}

export type Outcome = {
  request: UpstreamRequest;
  response: UpstreamResponse | null;
  status: number | undefined;
  headers: http.IncomingHttpHeaders | undefined;
  body: string;
  /** The request's 'error', with `connected` as it was then. */
  error: (NodeJS.ErrnoException & { connected: boolean }) | null;
  responseError: Error | null;
  aborted: boolean;
  ended: boolean;
};

export type SendOptions = { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string[] };

/** One exchange through the pool, settled at the request's 'close' (and what was queued for the same tick). */
export function send(pool: ClusterPool, port: number, options: SendOptions = {}): Promise<Outcome> {
  const request = pool.request({ host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path ?? "/", headers: options.headers ?? {} });
  const outcome: Outcome = { request, response: null, status: undefined, headers: undefined, body: "", error: null, responseError: null, aborted: false, ended: false };
  const done = new Promise<Outcome>((resolve) => {
    request.on("response", (response: UpstreamResponse) => {
      outcome.response = response;
      outcome.status = response.statusCode;
      outcome.headers = response.headers;
      response.on("data", (chunk: Buffer) => (outcome.body += chunk.toString("latin1")));
      response.on("end", () => (outcome.ended = true));
      response.on("error", (error: Error) => (outcome.responseError = error));
      response.on("aborted", () => (outcome.aborted = true));
    });
    request.on("error", (error: NodeJS.ErrnoException) => (outcome.error = Object.assign(error, { connected: request.connected })));
    request.on("close", () => setImmediate(() => resolve(outcome)));
  });
  for (const chunk of options.body ?? []) request.write(chunk);
  request.end();
  return within(done, `the end of ${options.method ?? "GET"} ${options.path ?? "/"}`);
}

export const ok = (body: string, extra = "") => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
