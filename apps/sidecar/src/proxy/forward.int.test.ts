// The forwarding primitive against real loopback servers: how an exchange ends when the upstream is missing,
// dies half-way through its body, is slower than the route timeout, or when the caller leaves before the answer.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClusterPool } from "../outbound/pools.ts";
import { forwardRequest, type ExchangeOutcome } from "./forward.ts";
import { toUpstreamHeaders } from "./headers.ts";

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return (server.address() as AddressInfo).port;
}

/** A proxy in front of `upstreamPort` that reports each exchange's outcome. */
async function proxyTo(upstreamPort: number, timeoutMs?: number): Promise<{ port: number; outcomes: ExchangeOutcome[] }> {
  const outcomes: ExchangeOutcome[] = [];
  const pool = createClusterPool("test", () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
  closers.push(() => pool.close());
  const port = await serve((req, res) => {
    const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress });
    void forwardRequest({ req, res, target: { host: "127.0.0.1", port: upstreamPort }, headers, pool, describeTarget: "the test upstream", timeoutMs }).then((o) => outcomes.push(o));
  });
  return { port, outcomes };
}

async function waitFor<T>(read: () => T, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  while (!done(read())) {
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(read())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return read();
}

describe("forwardRequest", () => {
  it("streams a chunked request body through and reports the status", async () => {
    const upstream = await serve((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => res.end(`got ${body} (${req.headers["transfer-encoding"] ?? "sized"})`));
    });
    const proxy = await proxyTo(upstream);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: proxy.port, method: "POST", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.write("part1-");
      setTimeout(() => req.end("part2"), 20);
    });
    expect(answer).toBe("got part1-part2 (chunked)");
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: 200, flag: null }]);
  });

  it("answers 503 UF when nothing listens upstream", async () => {
    const closedPort = await serve(() => {});
    closers.pop()?.();
    const proxy = await proxyTo(closedPort);
    const response = await fetch(`http://127.0.0.1:${proxy.port}/`);
    expect(response.status).toBe(503);
    expect(response.headers.get("x-trellis-response-flags")).toBe("UF");
    expect(await response.text()).toContain("the test upstream: ECONNREFUSED");
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: 503, flag: "UF" }]);
  });

  it("cuts the caller's connection and reports UC when the upstream dies mid-body", async () => {
    const upstream = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const proxy = await proxyTo(upstream);
    const ended = await new Promise<string>((resolve) => {
      http.get({ host: "127.0.0.1", port: proxy.port, agent: false }, (res) => {
        res.on("data", () => {});
        res.on("error", () => resolve("error"));
        res.on("aborted", () => resolve("aborted"));
        res.on("end", () => resolve("end"));
      });
    });
    expect(ended).not.toBe("end");
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: 200, flag: "UC" }]);
  });

  it("abandons the upstream request and reports DC when the caller leaves first", async () => {
    let upstreamClosed = false;
    const upstream = await serve((req) => req.socket.on("close", () => (upstreamClosed = true)));
    const proxy = await proxyTo(upstream);
    const req = http.get({ host: "127.0.0.1", port: proxy.port, agent: false });
    req.on("error", () => {});
    setTimeout(() => req.destroy(), 50);
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: null, flag: "DC" }]);
    await waitFor(() => upstreamClosed, (closed) => closed);
  });

  it("answers 504 UT when no response starts within the timeout, abandoning the upstream request", async () => {
    let upstreamClosed = false;
    // Never answers: the only way this exchange can end for the caller is the proxy's timeout.
    const upstream = await serve((req) => req.socket.on("close", () => (upstreamClosed = true)));
    const proxy = await proxyTo(upstream, 100);
    const response = await fetch(`http://127.0.0.1:${proxy.port}/slow`);
    expect(response.status).toBe(504);
    expect(response.headers.get("x-trellis-response-flags")).toBe("UT");
    expect(await response.text()).toContain("no complete response from the test upstream within the route timeout of 100 ms");
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: 504, flag: "UT" }]);
    await waitFor(() => upstreamClosed, (closed) => closed);
  });

  it("cuts the caller's connection and reports UT when the body is still coming at the timeout", async () => {
    const upstream = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial"); // and nothing more
    });
    const proxy = await proxyTo(upstream, 100);
    const ended = await new Promise<string>((resolve) => {
      http.get({ host: "127.0.0.1", port: proxy.port, agent: false }, (res) => {
        res.on("data", () => {});
        res.on("error", () => resolve("error"));
        res.on("aborted", () => resolve("aborted"));
        res.on("end", () => resolve("end"));
      });
    });
    expect(ended).not.toBe("end");
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: 200, flag: "UT" }]);
  });

  it("leaves a response that completes in time alone", async () => {
    const upstream = await serve((_req, res) => res.end("quick"));
    const proxy = await proxyTo(upstream, 5_000);
    const response = await fetch(`http://127.0.0.1:${proxy.port}/`);
    expect(await response.text()).toBe("quick");
    expect(await waitFor(() => proxy.outcomes, (o) => o.length === 1)).toEqual([{ status: 200, flag: null }]);
  });
});
