// The sidecar's HTTP/1.1 engine on real loopback sockets: the server side (keep-alive, pipelining, bodies both ways,
// 100-continue, handing a connection to Node's server mid-way) and the client side through a cluster pool (framings,
// interim responses, malformed answers, connection reuse).
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { createClusterPool, type ClusterPool } from "../outbound/pools.ts";
import { forwardRequest } from "../proxy/forward.ts";
import { toUpstreamHeaders } from "../proxy/headers.ts";
import { answerBadInput } from "../proxy/client-error.ts";
import { RESPONSE_FLAGS_HEADER } from "../response-flags.ts";
import { FastResponse, installHttp1Engine } from "./server.ts";
import type { UpstreamResponse } from "./client.ts";

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** An engine server; `sockets` are its accepted connections (to look at their listeners). */
async function engineServer(handler: http.RequestListener): Promise<{ port: number; server: http.Server; sockets: net.Socket[] }> {
  const server = http.createServer(handler);
  installHttp1Engine(server);
  answerBadInput(server);
  const sockets: net.Socket[] = [];
  server.on("connection", (socket: net.Socket) => sockets.push(socket));
  closers.push(() => server.closeAllConnections());
  return { port: await listen(server), server, sockets };
}

/** Writes `parts` (with a pause between them) on one raw connection and collects everything until `until` matches. */
async function exchange(port: number, parts: string[], until: (text: string) => boolean): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  closers.push(() => socket.destroy());
  let text = "";
  const done = new Promise<string>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (until(text)) resolve(text);
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
  for (const part of parts) {
    socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return done;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe("engine server", () => {
  it("serves many requests on one kept-alive connection with one idle-timeout listener", async () => {
    const { port, sockets } = await engineServer((req, res) => res.end(`hello ${req.url}`));
    const requests = Array.from({ length: 50 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const text = await exchange(port, requests, (t) => t.includes("hello /49"));
    expect(count(text, "HTTP/1.1 200 OK")).toBe(50);
    expect(text).toContain("connection: keep-alive");
    expect(sockets).toHaveLength(1);
    // setTimeout(ms, callback) per request would have left 50 listeners here.
    expect(sockets[0]?.listenerCount("timeout")).toBe(1);
  });

  it("answers pipelined requests in order", async () => {
    const { port } = await engineServer((req, res) => setTimeout(() => res.end(`answer ${req.url}`), req.url === "/slow" ? 30 : 0));
    const text = await exchange(port, ["GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n"], (t) => t.includes("answer /fast"));
    expect(text.indexOf("answer /slow")).toBeLessThan(text.indexOf("answer /fast"));
  });

  it("reads a chunked body arriving in pieces and answers in chunks", async () => {
    const { port } = await engineServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("got ");
        res.write(body);
        res.end();
      });
    });
    const text = await exchange(port, ["POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "lo\r\n6\r", "\n world\r\n0\r\n\r\n"], (t) => t.endsWith("0\r\n\r\n"));
    expect(text).toContain("transfer-encoding: chunked");
    expect(text).toContain("4\r\ngot \r\nb\r\nhello world\r\n0\r\n\r\n");
  });

  it("says 100 Continue before an expected body", async () => {
    const { port } = await engineServer((req, res) => {
      let size = 0;
      req.on("data", (chunk: Buffer) => (size += chunk.length));
      req.on("end", () => res.end(`size ${size}`));
    });
    const socket = net.connect(port, "127.0.0.1");
    closers.push(() => socket.destroy());
    let text = "";
    const interim = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) resolve();
      }),
    );
    socket.write("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    await interim;
    socket.write("data");
    await expect.poll(() => text).toContain("size 4");
  });

  it("drains a body the handler never read, and keeps the connection", async () => {
    const { port } = await engineServer((req, res) => res.end(`local ${req.url}`));
    const body = "x".repeat(100_000);
    const text = await exchange(port, [`POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, body, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"], (t) => t.includes("local /b"));
    expect(count(text, "HTTP/1.1 200 OK")).toBe(2);
  });

  it("hands a connection to Node's server at the request it cannot take, and Node answers bad input", async () => {
    const kinds: string[] = [];
    const { port } = await engineServer((req, res) => {
      kinds.push(res instanceof FastResponse ? "engine" : "node");
      res.end(`ok ${req.url}`);
    });
    // An HTTP/1.0 request after a normal one: the engine answers the first, Node the second.
    const text = await exchange(port, ["GET /one HTTP/1.1\r\nHost: x\r\n\r\n", "GET /two HTTP/1.0\r\nHost: x\r\n\r\n"], (t) => t.includes("ok /two"));
    expect(text).toContain("ok /one");
    expect(kinds).toEqual(["engine", "node"]);
    // Content-Length with Transfer-Encoding: Node's parser refuses it; the sidecar's answer is 400 DPE.
    const bad = await exchange(port, ["GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"], (t) => t.includes("400 Bad Request"));
    expect(bad).toContain("ok /ok");
    expect(bad).toContain(`${RESPONSE_FLAGS_HEADER}: DPE`);
    expect(kinds.filter((k) => k === "node")).toHaveLength(1); // the malformed request reached no handler
  });

  it("tells the handler when the caller leaves mid-response", async () => {
    let closed: { finished: boolean } | null = null;
    const { port } = await engineServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
      res.on("close", () => (closed = { finished: res.writableFinished }));
    });
    await exchange(port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"], (t) => t.includes("partial")).then(() => closers.splice(0).forEach((close) => close()));
    await expect.poll(() => closed).toEqual({ finished: false });
  });
});

/** A raw upstream answering each request with the next of `answers` (exact bytes), counting connections. */
async function rawUpstream(answers: string[]): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on("data", (chunk: Buffer) => {
      if (!chunk.toString("latin1").includes("\r\n\r\n")) return;
      const answer = answers.shift();
      if (answer === undefined) return;
      if (answer.endsWith("<close>")) socket.end(answer.slice(0, -"<close>".length));
      else socket.write(answer);
    });
  });
  closers.push(() => server.close());
  return { port: await listen(server), connections: () => connections };
}

function pool(): ClusterPool {
  const p = createClusterPool("test", () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
  closers.push(() => p.close());
  return p;
}

type Got = { status: number; body: string; response: UpstreamResponse };

function get(p: ClusterPool, port: number, method = "GET"): Promise<Got> {
  return new Promise((resolve, reject) => {
    const request = p.request({ host: "127.0.0.1", port, method, path: "/", headers: { host: "x" } });
    request.on("response", (response: UpstreamResponse) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode, body, response }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

describe("engine proxying", () => {
  it("streams 8 MB each way through an engine proxy to a slow reader, with backpressure, intact", async () => {
    const size = 8 * 1024 * 1024;
    const block = Buffer.alloc(64 * 1024, "z");
    const upstream = http.createServer((req, res) => {
      const hash = createHash("sha256");
      req.on("data", (chunk: Buffer) => hash.update(chunk));
      req.on("end", () => {
        res.writeHead(200, { "x-upload-sha256": hash.digest("hex") });
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            sent += block.length;
            if (!res.write(block)) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
      });
    });
    const upstreamPort = await listen(upstream);
    const p = pool();
    const { port } = await engineServer((req, res) => {
      void forwardRequest({ req, res, target: { host: "127.0.0.1", port: upstreamPort }, headers: toUpstreamHeaders(req.headers, { remoteAddress: "127.0.0.1" }), pool: p, describeTarget: "upstream" });
    });
    const upload = Buffer.alloc(size, "u");
    const result = await new Promise<{ uploadHash: string | undefined; bytes: number; hash: string }>((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port, method: "POST", path: "/big", agent: false, headers: { "content-length": size } }, (res) => {
        const hash = createHash("sha256");
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
          // A slow reader: the proxy must hold back rather than buffer everything.
          if (bytes % (1024 * 1024) < chunk.length) {
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on("end", () => resolve({ uploadHash: res.headers["x-upload-sha256"] as string | undefined, bytes, hash: hash.digest("hex") }));
        res.on("error", reject);
      });
      request.on("error", reject);
      request.end(upload);
    });
    expect(result.bytes).toBe(size);
    expect(result.hash).toBe(createHash("sha256").update(Buffer.alloc(size, "z")).digest("hex"));
    expect(result.uploadHash).toBe(createHash("sha256").update(upload).digest("hex"));
  });
});

describe("engine client (cluster pool)", () => {
  it("reads every framing on one reused connection", async () => {
    const upstream = await rawUpstream([
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    ]);
    const p = pool();
    expect(await get(p, upstream.port)).toMatchObject({ status: 200, body: "hello" });
    expect(await get(p, upstream.port)).toMatchObject({ status: 200, body: "abcde" });
    expect(await get(p, upstream.port)).toMatchObject({ status: 201, body: "ok" });
    expect(await get(p, upstream.port)).toMatchObject({ status: 204, body: "" });
    expect(await get(p, upstream.port, "HEAD")).toMatchObject({ status: 200, body: "" });
    expect(upstream.connections()).toBe(1);
  });

  it("reads a body that ends with the connection, and does not reuse it", async () => {
    const upstream = await rawUpstream(["HTTP/1.1 200 OK\r\n\r\nuntil close<close>", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]);
    const p = pool();
    expect(await get(p, upstream.port)).toMatchObject({ body: "until close" });
    expect(await get(p, upstream.port)).toMatchObject({ body: "ok" });
    expect(upstream.connections()).toBe(2);
  });

  it("fails an exchange on a malformed answer and opens a new connection for the next", async () => {
    const upstream = await rawUpstream(["HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]);
    const p = pool();
    await expect(get(p, upstream.port)).rejects.toThrow(/malformed response/);
    expect(await get(p, upstream.port)).toMatchObject({ body: "ok" });
    expect(upstream.connections()).toBe(2);
  });

  it("leaves a reused connection alone when an earlier, completed response is destroyed late", async () => {
    const upstream = await rawUpstream(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"]);
    const p = pool();
    const first = await get(p, upstream.port);
    const second = get(p, upstream.port);
    first.response.destroy();
    expect(await second).toMatchObject({ body: "b" });
    expect(upstream.connections()).toBe(1);
  });

  it("says connect failure apart from a reset", async () => {
    const closed = net.createServer();
    const port = await listen(closed);
    closed.close();
    const p = pool();
    const request = p.request({ host: "127.0.0.1", port, method: "GET", path: "/", headers: { host: "x" } });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => request.on("error", resolve));
    request.end();
    expect(error.code).toBe("ECONNREFUSED");
    expect(request.connected).toBe(false);
  });
});
