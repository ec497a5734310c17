// The HTTP/1.1 engine as the proxy uses it, on loopback: a long kept-alive connection (nothing per request may pile
// up on the socket) and the server and client halves together through forwardRequest, with large bodies both ways
// and a slow reader. server.int.test.ts and client.int.test.ts test each half on its own.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { createClusterPool, type ClusterPool } from "../outbound/pools.ts";
import { forwardRequest } from "../proxy/forward.ts";
import { toUpstreamHeaders } from "../proxy/headers.ts";
import { answerBadInput } from "../proxy/client-error.ts";
import { installHttp1Engine } from "./server.ts";

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

});

function pool(): ClusterPool {
  const p = createClusterPool("test", () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
  closers.push(() => p.close());
  return p;
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
