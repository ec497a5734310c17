// acceptH2c's first-bytes stage: a connection that has not said which protocol it speaks yet must not outlive its
// client, nor hold up a drain (server.close waits for every connection).
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { installHttp1Engine } from "../http1/server.ts";
import { acceptH2c } from "./h2-listener.ts";

let server: http.Server | null = null;

afterEach(async () => {
  const s = server;
  server = null;
  if (s === null || !s.listening) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

/** An outbound-style listener: the sidecar's HTTP/1.1 engine with h2c sniffing in front, as protocols.ts builds it. */
async function listen(): Promise<{ server: http.Server; port: number }> {
  const s = http.createServer((_req, res) => res.end("ok"));
  installHttp1Engine(s);
  acceptH2c(s, (stream) => stream.respond({ ":status": 200 }, { endStream: true }));
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  server = s;
  return { server: s, port: (s.address() as AddressInfo).port };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Milliseconds until server.close() calls back, after asking it to close idle connections as the drain does. */
function closeTime(s: http.Server): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    s.close(() => resolve(Date.now() - started));
    s.closeIdleConnections();
  });
}

function connectionCount(s: http.Server): Promise<number> {
  return new Promise((resolve, reject) => s.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

describe("acceptH2c before the first bytes", () => {
  it("closes a connection whose client left without sending anything", async () => {
    const { server: s, port } = await listen();
    const socket = await connect(port);
    const closedByServer = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const started = Date.now();
    socket.end(); // FIN, nothing sent
    await closedByServer;
    expect(Date.now() - started).toBeLessThan(1_000); // not the 10 s first-bytes timeout
    expect(await connectionCount(s)).toBe(0);
  });

  it("lets a drain close a connection that is still silent instead of waiting for its first-bytes timeout", async () => {
    const { server: s, port } = await listen();
    const socket = await connect(port);
    socket.on("error", () => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await connectionCount(s)).toBe(1);
    expect(await closeTime(s)).toBeLessThan(1_000);
  });

  it("still serves HTTP/1.1 and h2c on the same listener", async () => {
    const { port } = await listen();
    const h1 = await fetch(`http://127.0.0.1:${port}/`);
    expect(await h1.text()).toBe("ok");
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ":path": "/" });
      stream.once("response", (headers) => resolve(Number(headers[":status"])));
      stream.once("error", reject);
      stream.resume();
    });
    session.close();
    expect(status).toBe(200);
  });
});
