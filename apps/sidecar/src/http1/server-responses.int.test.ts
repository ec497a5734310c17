// The engine's server side on loopback: how responses are framed (so the next on the connection parses, by our raw
// client and by Node's), and the hand-off of a connection to Node's server for what the engine does not take.
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RESPONSE_FLAGS_HEADER } from "../response-flags.ts";
import { RawClient, closers, get, keepAliveAgent, nodeRequest, sleep, startServer } from "./server.fixture.ts";
import type { Http1Handler } from "./types.ts";

afterEach(() => closers.splice(0).forEach((close) => close()));

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
