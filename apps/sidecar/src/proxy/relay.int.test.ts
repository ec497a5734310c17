// relayBody against real loopback servers: a sized body sent in one piece, a chunked body arriving in parts, a body
// too large for one write (backpressure), and a response without a body — each arrives whole and is counted.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { relayBody } from "./relay.ts";

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return (server.address() as AddressInfo).port;
}

/** A proxy relaying every upstream response with relayBody; `counts` gets each response's byte count. */
async function relayProxy(upstreamPort: number): Promise<{ port: number; counts: number[] }> {
  const counts: number[] = [];
  const agent = new http.Agent({ keepAlive: true });
  closers.push(() => agent.destroy());
  const port = await serve((req, res) => {
    const upstream = http.request({ host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, agent }, (response) => {
      const count = { responseBytes: 0 };
      res.writeHead(response.statusCode ?? 502, response.headers);
      relayBody(response, res, count);
      res.once("finish", () => counts.push(count.responseBytes));
    });
    upstream.end();
  });
  return { port, counts };
}

async function fetchThrough(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (chunk: Buffer) => parts.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
  });
}

describe("relayBody", () => {
  it("relays sized, chunked, large and empty bodies whole and counts their bytes", async () => {
    const large = Buffer.alloc(4 * 1024 * 1024, "x");
    const upstream = await serve((req, res) => {
      if (req.url === "/sized") res.writeHead(200, { "content-length": "1024" }).end(Buffer.alloc(1024, "a"));
      else if (req.url === "/chunked") {
        res.write("part1-");
        setTimeout(() => res.write("part2-"), 10);
        setTimeout(() => res.end("part3"), 20);
      } else if (req.url === "/large") res.end(large);
      else res.writeHead(204).end();
    });
    const proxy = await relayProxy(upstream);

    const sized = await fetchThrough(proxy.port, "/sized");
    expect(sized.body.equals(Buffer.alloc(1024, "a"))).toBe(true);
    const chunked = await fetchThrough(proxy.port, "/chunked");
    expect(chunked.body.toString()).toBe("part1-part2-part3");
    const big = await fetchThrough(proxy.port, "/large");
    expect(big.body.equals(large)).toBe(true);
    const empty = await fetchThrough(proxy.port, "/none");
    expect([empty.status, empty.body.length]).toEqual([204, 0]);
    expect(proxy.counts).toEqual([1024, 17, large.length, 0]);
  });
});
