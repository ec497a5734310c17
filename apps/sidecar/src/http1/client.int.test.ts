// The engine's client side (client.ts through a cluster pool, outbound/pools.ts) on real loopback sockets, against
// raw servers that write exact response bytes: response framings, interim responses, connection reuse and when not
// to, malformed answers and failures. client-pool.int.test.ts: request framing, backpressure and pool limits.
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { closers, deferred, newPool, nodeServer, ok, scriptServer, send, sleep, within, writeInPieces } from "./client.fixture.ts";
import type { UpstreamResponse } from "./upstream-messages.ts";

afterEach(() => closers.splice(0).forEach((close) => close()));

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
