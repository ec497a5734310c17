// The cluster pool against real loopback servers: the connection count it keeps for the breakers, a request that
// must wait for a connection at the limit, and the limit shared across endpoints (an idle connection to one
// endpoint gives way to a request waiting for another).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClusterPool, type ClusterPool } from "./pools.ts";

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

async function serve(handler: http.RequestListener): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = http.createServer(handler);
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => (server.closeAllConnections(), server.close()));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function get(pool: ClusterPool, port: number): Promise<string> {
  const target = { host: "127.0.0.1", port };
  const pending = pool.admission(target) === "pending";
  return new Promise((resolve, reject) => {
    const req = pool.request({ ...target, method: "GET", path: "/", headers: {} });
    if (pending) expect(pool.pending()).toBeGreaterThan(0);
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("cluster pool", () => {
  it("counts connections, keeps them alive, and says a request must wait at the limit", async () => {
    const server = await serve((_req, res) => res.end("a"));
    const pool = createClusterPool("a", () => null, { maxConnections: 1, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
    closers.push(() => pool.close());
    expect(pool.admission({ host: "127.0.0.1", port: server.port })).toBe("ready");
    expect(await get(pool, server.port)).toBe("a");
    expect(pool.connections()).toBe(1);
    expect(pool.idleConnections()).toBe(1);
    // The idle connection is to this endpoint: no wait.
    expect(pool.admission({ host: "127.0.0.1", port: server.port })).toBe("ready");
    expect(pool.admission({ host: "127.0.0.1", port: server.port + 1 })).toBe("pending");
    expect(await get(pool, server.port)).toBe("a");
    expect(server.connections()).toBe(1);
  });

  it("lets a request for another endpoint through at the limit by closing an idle connection", async () => {
    const a = await serve((_req, res) => res.end("a"));
    const b = await serve((_req, res) => res.end("b"));
    const pool = createClusterPool("ab", () => null, { maxConnections: 1, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
    closers.push(() => pool.close());
    expect(await get(pool, a.port)).toBe("a");
    expect(await get(pool, b.port)).toBe("b");
    expect(await get(pool, a.port)).toBe("a");
    expect(pool.pending()).toBe(0);
    expect(pool.connections()).toBeLessThanOrEqual(1);
  });

  it("builds a new agent when the limits change, finishing what is in flight on the old one", async () => {
    let release: (() => void) | null = null;
    const server = await serve((req, res) => {
      if (req.url === "/hold") release = () => res.end("held");
      else res.end("quick");
    });
    const pool = createClusterPool("c", () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
    closers.push(() => pool.close());
    const held = new Promise<string>((resolve) => {
      const req = pool.request({ host: "127.0.0.1", port: server.port, method: "GET", path: "/hold", headers: {} });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve(body));
      });
      req.end();
    });
    while (release === null) await new Promise((resolve) => setTimeout(resolve, 5));
    pool.configure({ maxConnections: 4, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
    expect(await get(pool, server.port)).toBe("quick");
    (release as () => void)();
    expect(await held).toBe("held");
    // The retired agent closes its connection once its last request ended; the new agent keeps its own.
    const deadline = Date.now() + 5_000;
    while (pool.connections() !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(pool.connections()).toBe(1);
  });
});
