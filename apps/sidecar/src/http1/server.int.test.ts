// The engine's server side (installHttp1Engine) on real loopback sockets, driven byte by byte from raw sockets (and
// by Node's client where its parser is the judge): keep-alive, pipelining, request bodies in awkward pieces,
// 100-continue, response framing, draining an unread body, hand-off to Node's server, and closing connections.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { answerBadInput } from "../proxy/client-error.ts";
import { RESPONSE_FLAGS_HEADER } from "../response-flags.ts";
import { installHttp1Engine } from "./server.ts";
import type { Http1Handler, Http1Request } from "./types.ts";

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure naming what did not happen within READ_TIMEOUT_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, sleep(READ_TIMEOUT_MS).then(() => Promise.reject(new Error(`${what} did not come within ${READ_TIMEOUT_MS} ms`)))]);
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}
/** How long a read waits before failing: an engine that stalls fails the test quickly, saying what it got. */
const READ_TIMEOUT_MS = 2_000;

async function startServer(handler: Http1Handler): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer();
  installHttp1Engine(server);
  answerBadInput(server);
  server.on("request", handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return { server, port: (server.address() as AddressInfo).port };
}

type Reply = { status: number; headers: Record<string, string>; body: Buffer; raw: Buffer };

/** A raw client connection: exact bytes out, responses parsed here (so the engine's framing is checked, not trusted). */
class RawClient {
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
function takeResponse(buf: Buffer, bodyless: boolean, ended: boolean): { reply: Reply; used: number } | null {
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

function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

/** Reads a request's body the way the proxy does: 'data' then 'end', noting `complete` at each chunk. */
function readBody(req: Http1Request): Promise<{ body: Buffer; completeAtChunk: boolean[]; completeAtEnd: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const completeAtChunk: boolean[] = [];
    req.on("data", (chunk: Buffer) => (chunks.push(chunk), completeAtChunk.push(req.complete)));
    req.on("end", () => resolve({ body: Buffer.concat(chunks), completeAtChunk, completeAtEnd: req.complete }));
  });
}

/** A request through Node's client (its parser judges the engine's framing). */
function nodeRequest(port: number, agent: http.Agent, path: string, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
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

function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  closers.push(() => agent.destroy());
  return agent;
}

describe("engine server: connections", () => {
  it("serves several requests on one kept-alive connection, then closes after a `Connection: close` request", async () => {
    const ports: Array<number | undefined> = [];
    const { server, port } = await startServer((req, res) => {
      ports.push(req.socket.remotePort);
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`hello ${req.url}`);
    });
    server.keepAliveTimeout = 7_000; // read per connection: the hint below must say 7 s
    const client = await RawClient.connect(port);
    for (const path of ["/a", "/b", "/c"]) {
      client.send(get(path));
      const reply = await client.readResponse();
      expect(reply.status).toBe(200);
      expect(reply.body.toString()).toBe(`hello ${path}`);
      expect(reply.headers.connection).toBe("keep-alive");
      expect(reply.headers["keep-alive"]).toBe("timeout=7");
    }
    client.send(get("/last", "Connection: close\r\n"));
    const last = await client.readResponse();
    expect(last.body.toString()).toBe("hello /last");
    expect(last.headers.connection).toBe("close");
    expect(last.headers["keep-alive"]).toBeUndefined();
    await client.waitClosed();
    expect(client.ended).toBe(true); // the server ended it (FIN), not a reset
    expect(new Set(ports).size).toBe(1);
    expect(ports).toHaveLength(4);
  });

  it("keeps Node's keep-alive agent on one connection", async () => {
    const ports: Array<number | undefined> = [];
    const { port } = await startServer((req, res) => {
      ports.push(req.socket.remotePort);
      res.end("ok");
    });
    const agent = keepAliveAgent();
    for (let i = 0; i < 3; i += 1) {
      const reply = await nodeRequest(port, agent, `/${i}`);
      expect(reply).toMatchObject({ status: 200, body: "ok" });
      expect(reply.headers["keep-alive"]).toBe("timeout=5");
    }
    expect(new Set(ports).size).toBe(1);
  });

  it("answers pipelined requests in order when the first answer comes later", async () => {
    const { port } = await startServer((req, res) => {
      setTimeout(() => res.end(`answer ${req.url}`), req.url === "/slow" ? 30 : 0);
    });
    const client = await RawClient.connect(port);
    client.send(get("/slow") + get("/fast"));
    expect((await client.readResponse()).body.toString()).toBe("answer /slow");
    expect((await client.readResponse()).body.toString()).toBe("answer /fast");
  });

  it("answers pipelined requests in order when the handler answers at once", async () => {
    const { port } = await startServer((req, res) => res.end(`answer ${req.url}`));
    const client = await RawClient.connect(port);
    client.send(get("/1") + get("/2") + get("/3"));
    for (const path of ["/1", "/2", "/3"]) expect((await client.readResponse()).body.toString()).toBe(`answer ${path}`);
  });

  // A client closing its side (FIN) is how most leave; a reset is the other way.
  for (const leave of ["end", "reset"] as const) {
    it(`tells the handler when the client leaves mid-response (${leave})`, async () => {
      const closed = deferred<{ writableFinished: boolean }>();
      const { port } = await startServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("part one");
        res.on("close", () => closed.resolve({ writableFinished: res.writableFinished }));
      });
      const client = await RawClient.connect(port);
      client.send(get("/stream"));
      await client.readUntil("part one");
      if (leave === "end") client.socket.end();
      else client.socket.resetAndDestroy();
      expect(await within(closed.promise, "the response's 'close' event")).toEqual({ writableFinished: false });
    });
  }

  it("closes idle connections on closeIdleConnections, not one with a request in flight", async () => {
    const held = deferred<() => void>();
    const { server, port } = await startServer((req, res) => {
      if (req.url === "/hold") held.resolve(() => res.end("held"));
      else res.end("quick");
    });
    const busy = await RawClient.connect(port);
    busy.send(get("/hold"));
    const release = await held.promise;
    const idle = await RawClient.connect(port);
    idle.send(get("/quick"));
    expect((await idle.readResponse()).body.toString()).toBe("quick");

    server.closeIdleConnections();
    await idle.waitClosed();
    await sleep(50);
    expect(busy.closed).toBe(false);
    release();
    expect((await busy.readResponse()).body.toString()).toBe("held");
  });
});

describe("engine server: request bodies", () => {
  it("reads a Content-Length body arriving in many small writes, complete on its last chunk", async () => {
    const body = Buffer.from(Array.from({ length: 300 }, (_, i) => String.fromCharCode(33 + (i % 90))).join(""));
    const { port } = await startServer(async (req, res) => {
      const got = await readBody(req);
      res.end(JSON.stringify({ same: got.body.equals(body), completeAtChunk: got.completeAtChunk, completeAtEnd: got.completeAtEnd }));
    });
    const client = await RawClient.connect(port);
    // The head splits inside its blank line, the body at odd sizes.
    await client.sendInPieces(Buffer.concat([Buffer.from(`POST /cl HTTP/1.1\r\nHost: test\r\nContent-Length: ${body.length}\r\n\r\n`), body]), [7, 1, 13, 2, 31, 3]);
    const got = JSON.parse((await client.readResponse()).body.toString()) as { same: boolean; completeAtChunk: boolean[]; completeAtEnd: boolean };
    expect(got.same).toBe(true);
    expect(got.completeAtChunk.length).toBeGreaterThan(1);
    expect(got.completeAtChunk.at(-1)).toBe(true);
    expect(got.completeAtChunk.slice(0, -1).every((complete) => !complete)).toBe(true);
    expect(got.completeAtEnd).toBe(true);
  });

  it("reads a chunked body split at awkward places (size line, CR|LF, extension, trailer), and the next request after it", async () => {
    const { port } = await startServer(async (req, res) => {
      const got = await readBody(req);
      res.end(`${req.url} ${got.completeAtEnd} ${got.body.toString()}`);
    });
    const client = await RawClient.connect(port);
    const chunked = "POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" + "4\r\nWiki\r\n5;note=x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n" + "0\r\nX-Trailer: t\r\n\r\n";
    await client.sendInPieces(chunked + get("/next"), [1, 2, 3, 1, 5, 1, 1, 4]);
    expect((await client.readResponse()).body.toString()).toBe("/chunked true Wikipedia in\r\n\r\nchunks.");
    expect((await client.readResponse()).body.toString()).toBe("/next true ");
  });

  it("keeps a body for a handler that listens late (Content-Length and chunked)", async () => {
    const big = Buffer.alloc(200_000, "x");
    const { port } = await startServer((req, res) => {
      setTimeout(() => {
        void readBody(req).then((got) => res.end(`${got.body.length} ${got.body.equals(big)} ${got.completeAtChunk.at(-1)} ${got.completeAtEnd}`));
      }, 50);
    });
    const client = await RawClient.connect(port);
    client.send(Buffer.concat([Buffer.from(`POST /late HTTP/1.1\r\nHost: test\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
    expect((await client.readResponse()).body.toString()).toBe("200000 true true true");
    client.send(`POST /late HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big.toString()}\r\n0\r\n\r\n`);
    const chunked = (await client.readResponse()).body.toString().split(" ");
    expect(chunked[0]).toBe("200000");
    expect(chunked[1]).toBe("true");
    expect(chunked[3]).toBe("true"); // complete by 'end' (the last data chunk precedes the 0-size chunk, as in Node)
  });

  it("says 100 Continue before an expected body is sent", async () => {
    const { port } = await startServer(async (req, res) => res.end(`got ${(await readBody(req)).body.toString()}`));
    const client = await RawClient.connect(port);
    client.send("POST /expect HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    const interim = await client.readResponse();
    expect(interim.raw.toString()).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    client.send("hello");
    const reply = await client.readResponse();
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe("got hello");
  });

  it("drains a posted body the handler answered without reading, and serves the next request", async () => {
    const { port } = await startServer((req, res) => {
      if (req.method === "POST") res.end(`early ${req.url}`);
      else res.end(`after ${req.url}`);
    });
    const client = await RawClient.connect(port);
    // The body mostly arrives after the answer.
    client.send("POST /cl HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n0123456789");
    expect((await client.readResponse()).body.toString()).toBe("early /cl");
    await client.sendInPieces(Buffer.alloc(99_990, "b"), [40_000]);
    client.send(get("/one"));
    expect((await client.readResponse()).body.toString()).toBe("after /one");
    // Chunked, likewise.
    client.send("POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    expect((await client.readResponse()).body.toString()).toBe("early /chunked");
    await client.sendInPieces("4\r\ndefg\r\n0\r\n\r\n", [2, 5]);
    client.send(get("/two"));
    expect((await client.readResponse()).body.toString()).toBe("after /two");
  });

  it("drains a posted body answered without reading when the body and the next request come with the head", async () => {
    const { port } = await startServer((req, res) => res.end(`${req.method} ${req.url}`));
    const client = await RawClient.connect(port);
    client.send("POST /early HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello" + get("/next"));
    expect((await client.readResponse()).body.toString()).toBe("POST /early");
    expect((await client.readResponse()).body.toString()).toBe("GET /next");
  });
});

describe("engine server: response framing", () => {
  const frame: Http1Handler = (req, res) => {
    if (req.url === "/whole") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("hello world");
    } else if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("hel");
      res.write("lo ");
      res.end("world");
    } else if (req.url === "/empty") {
      res.writeHead(204, { "x-why": "none" });
      res.end("dropped");
    } else res.end();
  };

  it("frames whole, streamed, HEAD and 204 responses so the next response on the connection parses", async () => {
    const { port } = await startServer(frame);
    const client = await RawClient.connect(port);

    client.send(get("/whole"));
    const whole = await client.readResponse();
    expect(whole.headers["content-length"]).toBe("11");
    expect(whole.headers["transfer-encoding"]).toBeUndefined();
    expect(whole.body.toString()).toBe("hello world");

    client.send(get("/stream"));
    const stream = await client.readResponse();
    expect(stream.headers["transfer-encoding"]).toBe("chunked");
    expect(stream.raw.toString().endsWith("\r\n\r\n3\r\nhel\r\n3\r\nlo \r\n5\r\nworld\r\n0\r\n\r\n")).toBe(true);
    expect(stream.body.toString()).toBe("hello world");

    client.send(`HEAD /whole HTTP/1.1\r\nHost: test\r\n\r\n`);
    const head = await client.readResponse(true);
    expect(head.status).toBe(200);
    await sleep(20);
    expect(client.pending()).toBe(""); // no body after the head

    client.send(get("/empty"));
    const empty = await client.readResponse();
    expect(empty.status).toBe(204);
    expect(empty.headers["x-why"]).toBe("none");
    expect(empty.headers["content-length"]).toBeUndefined();
    expect(empty.headers["transfer-encoding"]).toBeUndefined();
    await sleep(20);
    expect(client.pending()).toBe("");

    client.send(get("/nothing"));
    const nothing = await client.readResponse();
    expect(nothing.headers["content-length"]).toBe("0");

    for (const reply of [whole, stream, head, empty, nothing]) {
      expect(reply.headers.date).toMatch(/GMT$/);
      expect(Math.abs(Date.parse(reply.headers.date ?? "") - Date.now())).toBeLessThan(5_000);
    }
  });

  it("frames responses Node's client parses the same", async () => {
    const { port } = await startServer(frame);
    const agent = keepAliveAgent();
    expect(await nodeRequest(port, agent, "/whole")).toMatchObject({ status: 200, body: "hello world" });
    expect(await nodeRequest(port, agent, "/stream")).toMatchObject({ status: 200, body: "hello world" });
    expect(await nodeRequest(port, agent, "/whole", "HEAD")).toMatchObject({ status: 200, body: "" });
    expect(await nodeRequest(port, agent, "/empty")).toMatchObject({ status: 204, body: "" });
    expect(await nodeRequest(port, agent, "/whole")).toMatchObject({ status: 200, body: "hello world" });
  });

  it("frames each response by its own body when a handler passes the same headers object twice", async () => {
    const shared = { "content-type": "text/plain" };
    const { port } = await startServer((req, res) => {
      res.writeHead(200, shared);
      res.end(req.url === "/short" ? "ab" : "abcdefgh");
    });
    const client = await RawClient.connect(port);
    client.send(get("/short"));
    expect((await client.readResponse()).body.toString()).toBe("ab");
    client.send(get("/long"));
    expect((await client.readResponse()).body.toString()).toBe("abcdefgh");
  });
});

describe("engine server: hand-off to Node's server", () => {
  const versions: string[] = [];
  const echoVersion: Http1Handler = (req, res) => {
    versions.push(req.httpVersion);
    res.end(`${req.url} over ${req.httpVersion}`);
  };
  afterEach(() => void versions.splice(0));

  it("hands over an HTTP/1.0 request, first or second on a connection", async () => {
    const { port } = await startServer(echoVersion);
    const first = await RawClient.connect(port);
    first.send("GET /old HTTP/1.0\r\nHost: test\r\n\r\n");
    expect((await first.readResponse()).body.toString()).toBe("/old over 1.0");
    await first.waitClosed();

    const second = await RawClient.connect(port);
    second.send(get("/new"));
    const engine = await second.readResponse();
    expect(engine.headers["keep-alive"]).toBe("timeout=5");
    second.send("GET /old HTTP/1.0\r\nHost: test\r\n\r\n");
    expect((await second.readResponse()).body.toString()).toBe("/old over 1.0");
    await second.waitClosed();
    expect(versions).toEqual(["1.0", "1.1", "1.0"]);
  });

  it("hands over an HTTP/1.0 request pipelined behind one the engine serves", async () => {
    const { port } = await startServer((req, res) => setTimeout(() => echoVersion(req, res), 10));
    const client = await RawClient.connect(port);
    client.send(get("/new") + "GET /old HTTP/1.0\r\nHost: test\r\n\r\n");
    expect((await client.readResponse()).body.toString()).toBe("/new over 1.1");
    expect((await client.readResponse()).body.toString()).toBe("/old over 1.0");
  });

  it("hands over an Upgrade request, first or second, with the bytes after its head", async () => {
    const { server, port } = await startServer(echoVersion);
    const heads: string[] = [];
    server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      heads.push(`${req.url} ${head.toString()}`);
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      socket.on("data", (chunk: Buffer) => socket.write(`echo:${chunk.toString()}`));
    });
    const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

    const first = await RawClient.connect(port);
    first.send(upgrade("/ws") + "early");
    expect((await first.readResponse()).status).toBe(101);
    first.send("ping");
    await first.readUntil("echo:ping");

    const second = await RawClient.connect(port);
    second.send(get("/plain"));
    expect((await second.readResponse()).body.toString()).toBe("/plain over 1.1");
    second.send(upgrade("/ws2") + "more");
    expect((await second.readResponse()).status).toBe(101);
    expect(heads).toEqual(["/ws early", "/ws2 more"]);
  });

  it("lets Node answer a malformed request (Content-Length with Transfer-Encoding) 400 DPE, first or second", async () => {
    let served = 0;
    const { port } = await startServer((_req, res) => (served += 1, res.end("ok")));
    const smuggle = "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

    const first = await RawClient.connect(port);
    first.send(smuggle);
    const refused = await first.readResponse();
    expect(refused.status).toBe(400);
    expect(refused.headers[RESPONSE_FLAGS_HEADER]).toBe("DPE");
    expect(refused.headers.connection).toBe("close");
    await first.waitClosed();

    const second = await RawClient.connect(port);
    second.send(get("/fine"));
    expect((await second.readResponse()).body.toString()).toBe("ok");
    second.send(smuggle);
    const refusedSecond = await second.readResponse();
    expect(refusedSecond.status).toBe(400);
    expect(refusedSecond.headers[RESPONSE_FLAGS_HEADER]).toBe("DPE");
    await second.waitClosed();
    expect(served).toBe(1);
  });

  it("lets Node answer a head over 16 KB with 431 DPE", async () => {
    let served = 0;
    const { port } = await startServer((_req, res) => (served += 1, res.end("ok")));
    const client = await RawClient.connect(port);
    client.send(get("/big", `X-Big: ${"a".repeat(20_000)}\r\n`));
    const reply = await client.readResponse();
    expect(reply.status).toBe(431);
    expect(reply.headers[RESPONSE_FLAGS_HEADER]).toBe("DPE");
    await client.waitClosed();
    expect(served).toBe(0);
  });
});
