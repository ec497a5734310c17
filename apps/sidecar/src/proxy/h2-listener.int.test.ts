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

/**
 * An outbound-style listener (the sidecar's HTTP/1.1 engine with h2c sniffing in front, as protocols.ts builds it)
 * and the server side of the next connection, seen after acceptH2c's own handlers.
 */
async function listen(): Promise<{ server: http.Server; port: number; accepted: Promise<net.Socket> }> {
  const s = http.createServer((_req, res) => res.end("ok"));
  installHttp1Engine(s);
  acceptH2c(s, (stream) => stream.respond({ ":status": 200 }, { endStream: true }));
  const accepted = new Promise<net.Socket>((resolve) => s.once("connection", resolve));
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  server = s;
  return { server: s, port: (s.address() as AddressInfo).port, accepted };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

// Without the fixes, both connections below stay open until the 10 s first-bytes timeout: the server side is checked
// at the moment it handles the client's FIN or the drain's closeIdleConnections(), not against a clock.
describe("acceptH2c before the first bytes", () => {
  it("closes a connection whose client left without sending anything", async () => {
    const { port, accepted } = await listen();
    const socket = await connect(port);
    const serverSide = await accepted;
    const finSeen = new Promise<void>((resolve) => serverSide.once("end", () => resolve()));
    socket.end(); // FIN, nothing sent
    await finSeen;
    expect(serverSide.destroyed).toBe(true);
  });

  it("lets a drain close a connection that is still silent instead of waiting for its first-bytes timeout", async () => {
    const { server: s, port, accepted } = await listen();
    const socket = await connect(port);
    socket.on("error", () => {});
    const serverSide = await accepted;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeIdleConnections();
    expect(serverSide.destroyed).toBe(true);
    await closed;
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
