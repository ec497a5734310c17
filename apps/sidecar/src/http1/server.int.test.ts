// The engine's server side (installHttp1Engine) on real loopback sockets, driven byte by byte from raw sockets (and
// by Node's client where its parser is the judge): keep-alive, pipelining, closing connections, request bodies in
// awkward pieces, 100-continue and draining an unread body. server-responses.int.test.ts: framing and hand-off.
import { afterEach, describe, expect, it } from "vitest";
import { RawClient, closers, deferred, get, keepAliveAgent, nodeRequest, readBody, sleep, startServer, within } from "./server.fixture.ts";

afterEach(() => closers.splice(0).forEach((close) => close()));

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
