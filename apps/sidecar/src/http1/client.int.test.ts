// The engine's client side (client.ts through a cluster pool, outbound/pools.ts) on real loopback sockets, against
// raw servers that write exact response bytes and plain Node servers: response framings, interim responses,
// connection reuse and when not to, malformed answers, failures, request framing, backpressure and pool limits.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClusterPool, type ClusterPool, type PoolLimits } from "../outbound/pools.ts";
import type { UpstreamRequest, UpstreamResponse } from "./client.ts";

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long an exchange may take before the test fails saying so (a stalled engine fails fast, not at 60 s). */
const EXCHANGE_TIMEOUT_MS = 2_000;

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, sleep(EXCHANGE_TIMEOUT_MS).then(() => Promise.reject(new Error(`${what} did not come within ${EXCHANGE_TIMEOUT_MS} ms`)))]);
}

/** What a scripted server read: one request, its body as framed on the wire, and which connection (0, 1, …) it came on. */
type Received = { method: string; path: string; headers: Record<string, string>; body: Buffer; connection: number; socket: net.Socket };

type Scripted = { port: number; received: Received[]; connections: () => number; closed: () => number };

/** A raw server: each complete request goes to `respond`, which writes whatever bytes the test wants. */
async function scriptServer(respond: (request: Received) => void): Promise<Scripted> {
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
function takeRequest(buf: Buffer): { request: Omit<Received, "connection" | "socket">; used: number } | null {
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
async function writeInPieces(socket: net.Socket, data: string, sizes: number[]): Promise<void> {
  const bytes = Buffer.from(data, "latin1");
  for (let at = 0, i = 0; at < bytes.length; i += 1) {
    const size = sizes[i % sizes.length] as number;
    socket.write(bytes.subarray(at, at + size));
    at += size;
    await sleep(2);
  }
}

async function nodeServer(handler: http.RequestListener): Promise<{ port: number; connections: () => number; closed: () => number }> {
  let connections = 0;
  let closed = 0;
  const server = http.createServer(handler);
  server.on("connection", (socket: net.Socket) => (connections += 1, socket.on("close", () => (closed += 1))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, closed: () => closed };
}

function newPool(limits: Partial<PoolLimits> = {}): ClusterPool {
  const pool = createClusterPool("t", () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined, ...limits });
  closers.push(() => pool.close());
  return pool;
}

type Outcome = {
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

type SendOptions = { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string[] };

/** One exchange through the pool, settled at the request's 'close' (and what was queued for the same tick). */
function send(pool: ClusterPool, port: number, options: SendOptions = {}): Promise<Outcome> {
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

const ok = (body: string, extra = "") => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe("engine client: response framings", () => {
  it("reads a Content-Length response", async () => {
    const server = await scriptServer(({ socket }) => socket.write(ok("hello", "X-A: 1\r\n")));
    const out = await send(newPool(), server.port);
    expect(out).toMatchObject({ status: 200, body: "hello", ended: true, error: null });
    expect(out.headers?.["x-a"]).toBe("1");
    expect(out.response?.statusMessage).toBe("OK");
  });

  it("reads a chunked response split at odd places, with an extension and trailers, and reuses the connection", async () => {
    const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;name=val\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-Trailer: yes\r\n\r\n";
    const server = await scriptServer(({ path, socket }) => void (path === "/chunked" ? writeInPieces(socket, chunked, [1, 3, 2, 7, 1, 1, 5]) : socket.write(ok("next"))));
    const pool = newPool();
    const out = await send(pool, server.port, { path: "/chunked" });
    expect(out).toMatchObject({ status: 200, body: "Wikipedia in\r\n\r\nchunks.", ended: true, error: null });
    expect(out.response?.complete).toBe(true);
    expect((await send(pool, server.port)).body).toBe("next");
    expect(server.connections()).toBe(1);
  });

  it("reads a body that ends with the connection, and does not reuse it", async () => {
    const server = await scriptServer(({ path, socket }) => {
      if (path !== "/until-close") return void socket.write(ok("next"));
      socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst ");
      setTimeout(() => socket.end("second"), 20);
    });
    const pool = newPool();
    const out = await send(pool, server.port, { path: "/until-close" });
    expect(out).toMatchObject({ status: 200, body: "first second", ended: true, error: null, aborted: false });
    expect((await send(pool, server.port)).body).toBe("next");
    expect(server.connections()).toBe(2);
  });

  it("skips 100 Continue and 103 Early Hints before the final response", async () => {
    const interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
    const server = await scriptServer(({ socket }) => void writeInPieces(socket, interim + ok("final"), [5, 20, 3, 40]));
    const pool = newPool();
    const out = await send(pool, server.port);
    expect(out).toMatchObject({ status: 200, body: "final", ended: true, error: null });
    expect(out.headers?.link).toBeUndefined();
    expect((await send(pool, server.port)).body).toBe("final");
    expect(server.connections()).toBe(1);
  });

  it("reads HEAD (with Content-Length), 204 and 304 as bodyless, and keeps the connection in step", async () => {
    const server = await scriptServer(({ path, socket }) => {
      if (path === "/head") socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
      else if (path === "/204") socket.write("HTTP/1.1 204 No Content\r\n\r\n");
      else if (path === "/304") socket.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n");
      else socket.write(ok("after"));
    });
    const pool = newPool();
    const head = await send(pool, server.port, { method: "HEAD", path: "/head" });
    expect(head).toMatchObject({ status: 200, body: "", ended: true, error: null });
    expect(head.headers?.["content-length"]).toBe("1234");
    expect(await send(pool, server.port, { path: "/204" })).toMatchObject({ status: 204, body: "", ended: true });
    expect(await send(pool, server.port, { path: "/304" })).toMatchObject({ status: 304, body: "", ended: true });
    expect(await send(pool, server.port)).toMatchObject({ status: 200, body: "after" });
    expect(server.connections()).toBe(1);
  });
});

describe("engine client: connection reuse", () => {
  it("keeps one connection for sequential requests", async () => {
    const server = await nodeServer((req, res) => res.end(`hi ${req.url}`));
    const pool = newPool();
    for (const path of ["/1", "/2", "/3"]) expect((await send(pool, server.port, { path })).body).toBe(`hi ${path}`);
    expect(server.connections()).toBe(1);
    expect(pool.connections()).toBe(1);
    expect(pool.idleConnections()).toBe(1);
  });

  it("does not reuse a connection whose response said `Connection: close`, and closes it itself", async () => {
    const server = await scriptServer(({ path, socket }) => socket.write(path === "/close" ? ok("bye", "Connection: close\r\n") : ok("again")));
    const pool = newPool();
    expect((await send(pool, server.port, { path: "/close" })).body).toBe("bye");
    expect((await send(pool, server.port)).body).toBe("again");
    expect(server.connections()).toBe(2);
    await sleep(20);
    expect(server.closed()).toBe(1);
  });

  const malformed: Array<[string, string]> = [
    ["a bad status code", "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"],
    ["a bad protocol name", "HTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    ["Content-Length with Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"],
    ["a repeated Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"],
  ];
  for (const [what, bytes] of malformed) {
    it(`fails the exchange on ${what} and opens a new connection for the next`, async () => {
      const server = await scriptServer(({ path, socket }) => socket.write(path === "/bad" ? bytes : ok("fine")));
      const pool = newPool();
      const bad = await send(pool, server.port, { path: "/bad" });
      expect(bad.response).toBeNull();
      expect(bad.error?.code).toBe("HPE_INVALID_RESPONSE");
      expect((await send(pool, server.port)).body).toBe("fine");
      expect(server.connections()).toBe(2);
    });
  }

  // The bytes belong to no request: whatever the server meant, the connection is out of step (client.ts says so).
  const stray: Array<[string, string]> = [
    ["a 204", "HTTP/1.1 204 No Content\r\n\r\nstray"],
    ["a Content-Length body", `${ok("ok")}stray`],
  ];
  for (const [what, bytes] of stray) {
    it(`does not reuse a connection with bytes after ${what} in the same read`, async () => {
      const server = await scriptServer(({ path, socket }) => socket.write(path === "/extra" ? bytes : ok("fine")));
      const pool = newPool();
      expect((await send(pool, server.port, { path: "/extra" })).error).toBeNull();
      expect((await send(pool, server.port)).body).toBe("fine");
      expect(server.connections()).toBe(2);
    });
  }

  it("leaves a reused connection alone when an earlier, completed exchange is destroyed late", async () => {
    const atServer = deferred<net.Socket>();
    const server = await scriptServer(({ path, socket }) => (path === "/two" ? atServer.resolve(socket) : socket.write(ok(path))));
    const pool = newPool();
    const one = await send(pool, server.port, { path: "/one" });
    expect(one.body).toBe("/one");

    const two = pool.request({ host: "127.0.0.1", port: server.port, method: "GET", path: "/two", headers: {} });
    two.end();
    expect(two.connection).toBe(one.request.connection);
    let body = "";
    let failure: Error | null = null;
    const firstBytes = deferred<void>();
    const ended = deferred<void>();
    two.on("error", (error: Error) => (failure = error));
    two.on("response", (response: UpstreamResponse) => {
      response.on("data", (chunk: Buffer) => ((body += chunk.toString()), firstBytes.resolve()));
      response.on("end", () => ended.resolve());
      response.on("error", (error: Error) => (failure = error));
    });
    const socket = await within(atServer.promise, "request /two at the server");
    // Destroyed while the second exchange waits for its head, then again while its body is arriving.
    one.response?.destroy();
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntw");
    await within(firstBytes.promise, "the first bytes of /two");
    one.response?.destroy();
    one.request.destroy();
    socket.write("o");
    await within(ended.promise, "the end of /two");
    expect(body).toBe("two");
    expect(failure).toBeNull();
    expect((await send(pool, server.port, { path: "/three" })).body).toBe("/three");
    expect(server.connections()).toBe(1);
  });
});

describe("engine client: failures", () => {
  const cut: Array<[string, string, string]> = [
    ["Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "abc"],
    ["chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n5\r\nde"],
  ];
  for (const [what, head, partial] of cut) {
    it(`reports a ${what} body cut short by the server as the response's error`, async () => {
      const server = await scriptServer(({ socket }) => {
        socket.write(head + partial);
        setTimeout(() => socket.destroy(), 20);
      });
      const out = await send(newPool(), server.port);
      expect(out.status).toBe(200);
      expect(out.body).toBe(what === "chunked" ? "abcde" : "abc");
      expect(out.aborted).toBe(true);
      expect(out.ended).toBe(false);
      expect((out.responseError as NodeJS.ErrnoException | null)?.code).toBe("ECONNRESET");
      expect(out.error).toBeNull(); // the request had its response: the failure is the response's
    });
  }

  it("does not throw for a body cut short when the response has no 'error' listener", async () => {
    const server = await scriptServer(({ socket }) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
      setTimeout(() => socket.destroy(), 20);
    });
    const request = newPool().request({ host: "127.0.0.1", port: server.port, method: "GET", path: "/", headers: {} });
    request.end();
    const aborted = deferred<string>();
    request.on("response", (response: UpstreamResponse) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("aborted", () => aborted.resolve(body));
    });
    expect(await within(aborted.promise, "'aborted'")).toBe("abc");
  });

  it("fails with connected false when the server refuses the connection", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const pool = newPool();
    const out = await send(pool, port);
    expect(out.error?.code).toBe("ECONNREFUSED");
    expect(out.error?.connected).toBe(false);
    expect(out.request.connecting).toBe(true);
    expect(pool.connections()).toBe(0);
  });

  it("fails with connected true when a reused connection is reset", async () => {
    const server = await scriptServer(({ path, socket }) => (path === "/reset" ? socket.resetAndDestroy() : socket.write(ok("fine"))));
    const pool = newPool();
    expect((await send(pool, server.port)).body).toBe("fine");
    const out = await send(pool, server.port, { path: "/reset" });
    expect(out.request.connecting).toBe(false); // it was given the idle connection
    expect(out.error?.code).toBe("ECONNRESET");
    expect(out.error?.connected).toBe(true);
    expect((await send(pool, server.port)).body).toBe("fine");
  });
});

describe("engine client: request bodies", () => {
  it("frames request bodies: chunked without a length, raw with one, Content-Length 0 for an empty POST, nothing for GET", async () => {
    const server = await scriptServer(({ socket }) => socket.write(ok("")));
    const pool = newPool();
    await send(pool, server.port, { method: "POST", path: "/chunked", body: ["hello ", "world"] });
    await send(pool, server.port, { method: "POST", path: "/length", headers: { "content-length": 11 }, body: ["hello ", "world"] });
    await send(pool, server.port, { method: "POST", path: "/empty" });
    await send(pool, server.port, { method: "GET", path: "/get" });
    const [chunked, length, empty, bodiless] = server.received;
    expect(chunked?.headers["transfer-encoding"]).toBe("chunked");
    expect(chunked?.headers["content-length"]).toBeUndefined();
    expect(chunked?.body.toString()).toBe("6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
    expect(length?.headers["content-length"]).toBe("11");
    expect(length?.headers["transfer-encoding"]).toBeUndefined();
    expect(length?.body.toString()).toBe("hello world");
    expect(empty?.headers["content-length"]).toBe("0");
    expect(empty?.headers["transfer-encoding"]).toBeUndefined();
    expect(bodiless?.headers["content-length"]).toBeUndefined();
    expect(bodiless?.headers["transfer-encoding"]).toBeUndefined();
    expect(bodiless?.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(server.connections()).toBe(1);
  });
});

describe("engine client: response backpressure", () => {
  it("delivers a 10 MB body read slowly (pause/resume) intact and in order, without buffering it all", async () => {
    const size = 10 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i += 1) payload[i] = (i * 7 + (i >> 16)) & 0xff;
    const server = await nodeServer((_req, res) => {
      res.writeHead(200, { "content-length": size });
      let at = 0;
      const pump = () => {
        while (at < size) {
          const slice = payload.subarray(at, at + 65_536);
          at += slice.length;
          if (!res.write(slice)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
    const request = newPool().request({ host: "127.0.0.1", port: server.port, method: "GET", path: "/big", headers: {} });
    request.end();
    const chunks: Buffer[] = [];
    let maxBuffered = 0;
    let pauses = 0;
    const done = new Promise<void>((resolve, reject) => {
      request.on("error", reject);
      request.on("response", (response: UpstreamResponse) => {
        response.on("error", reject);
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          response.pause();
          pauses += 1;
          // What queued while paused: some (the pause held it back), never the whole body (the socket was paused).
          const resume = () => ((maxBuffered = Math.max(maxBuffered, response.readableLength)), response.resume());
          if (pauses % 16 === 0) setTimeout(resume, 2);
          else setImmediate(resume);
        });
        response.on("end", resolve);
      });
    });
    await within(done, "the end of the 10 MB body").catch(async () => {
      throw new Error(`10 MB body stalled after ${chunks.reduce((n, chunk) => n + chunk.length, 0)} bytes`);
    });
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(size);
    expect(body.equals(payload)).toBe(true);
    expect(maxBuffered).toBeLessThan(2 * 1024 * 1024);
  });
});

describe("engine client: pool limits", () => {
  it("makes a request to another endpoint wait at maxConnections 1, and sends it when the first finishes", async () => {
    const held = deferred<() => void>();
    const a = await nodeServer((_req, res) => held.resolve(() => res.end("a")));
    let bSeen = 0;
    const b = await nodeServer((_req, res) => ((bSeen += 1), res.end("b")));
    const pool = newPool({ maxConnections: 1 });
    const first = send(pool, a.port);
    const release = await within(held.promise, "the request at server a");
    expect(pool.admission({ host: "127.0.0.1", port: b.port })).toBe("pending");
    const second = send(pool, b.port);
    expect(pool.pending()).toBe(1);
    await sleep(30);
    expect(bSeen).toBe(0);
    release();
    expect((await first).body).toBe("a");
    expect((await second).body).toBe("b");
    expect(pool.pending()).toBe(0);
    expect(pool.connections()).toBeLessThanOrEqual(1);
  });

  it("closes a connection idle for idleTimeoutMs", async () => {
    const server = await nodeServer((_req, res) => res.end("x"));
    const pool = newPool({ idleTimeoutMs: 100 });
    expect((await send(pool, server.port)).body).toBe("x");
    expect(pool.idleConnections()).toBe(1);
    await sleep(50);
    expect(pool.connections()).toBe(1);
    await sleep(200);
    expect(pool.idleConnections()).toBe(0);
    expect(pool.connections()).toBe(0);
    expect(server.closed()).toBe(1);
  });

  it("says close on the last request maxRequestsPerConnection allows, and opens a new connection after it", async () => {
    const server = await scriptServer(({ socket }) => socket.write(ok("r")));
    const pool = newPool({ maxRequestsPerConnection: 2 });
    for (let i = 0; i < 3; i += 1) expect((await send(pool, server.port)).body).toBe("r");
    expect(server.received.map((r) => [r.connection, r.headers.connection])).toEqual([
      [0, undefined],
      [0, "close"],
      [1, undefined],
    ]);
  });
});
