// The engine's client side through a cluster pool on loopback: how request bodies are framed, a large response read
// slowly (backpressure), and the pool's limits (a request waiting at maxConnections, idle timeout, requests per
// connection).
import { afterEach, describe, expect, it } from "vitest";
import { closers, deferred, newPool, nodeServer, ok, scriptServer, send, sleep, within } from "./client.fixture.ts";
import type { UpstreamResponse } from "./upstream-messages.ts";

afterEach(() => closers.splice(0).forEach((close) => close()));

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
