// The control plane on its own, against a real migrated Postgres: REST on the shared port, the config-stream
// protocol spoken by a plain HTTP/2 client (hello, push, ACK, NACK, refusal of a bad hello), and versions that
// keep increasing across a restart. The real sidecar against it is covered in apps/sidecar/src/mesh.int.test.ts.
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLineSplitter, encodeLine, type ConfigMessage, type NodeInfo } from "@trellis/mesh-config";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startControlPlane, type ControlPlane } from "./control-plane.ts";
import { DEBOUNCE_MS } from "./push.ts";
import type { ServiceView, SidecarView } from "./rest.ts";

let testDb: TestDatabase;
let controlPlane: ControlPlane;
let baseUrl: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  // No disconnect grace: these tests expect a closed stream's endpoint to go at once (disconnect-grace.int.test.ts
  // covers the grace period).
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, disconnectGraceMs: 0 });
  baseUrl = `http://127.0.0.1:${controlPlane.port}`;
});

afterAll(async () => {
  await controlPlane?.stop();
  await testDb?.drop();
});

function node(id: string, service: string, port: number, upstreams: string[] = []): NodeInfo {
  return {
    id,
    service,
    namespace: "default",
    version: "v1",
    mode: "sidecar",
    labels: { app: service },
    address: `127.0.0.1:${port}`,
    inboundUrl: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${port + 1}`,
    upstreams,
  };
}

/** A minimal config-stream client: enough protocol to drive the control plane from a test. */
type FakeSidecar = { status: Promise<number>; next: () => Promise<ConfigMessage>; send: (message: unknown) => void; body: () => string; close: () => void };

function openStream(port: number, firstLine: string): FakeSidecar {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const stream = session.request({ ":method": "POST", ":path": "/v1/stream" });
  stream.on("error", () => {});
  stream.write(firstLine);
  const status = new Promise<number>((resolve) => stream.once("response", (headers) => resolve(Number(headers[":status"]))));
  const splitter = createLineSplitter();
  const queue: ConfigMessage[] = [];
  const waiters: Array<(message: ConfigMessage) => void> = [];
  let raw = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    raw += chunk;
    for (const line of splitter.push(chunk)) {
      if (!line.startsWith('{"type":"config"')) continue;
      const message = JSON.parse(line) as ConfigMessage;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    }
  });
  return {
    status,
    next: () => {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no config push within 10 s")), 10_000);
        waiters.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
    send: (message) => stream.write(encodeLine(message)),
    body: () => raw,
    close: () => session.destroy(),
  };
}

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sidecars = () => getJson<SidecarView[]>("/v1/sidecars").then((r) => r.body);
const byId = (list: SidecarView[], id: string) => list.find((s) => s.id === id);

describe("control plane REST", () => {
  it("answers healthz on the same port as the config stream", async () => {
    expect(await getJson("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("answers an unknown path with a 404 JSON error that lists the routes", async () => {
    const { status, body } = await getJson<{ error: string }>("/v1/nope");
    expect(status).toBe(404);
    expect(body.error).toContain("/v1/sidecars");
  });
});

describe("config stream", () => {
  it("refuses an invalid hello with a 400 that names the bad field", async () => {
    const bad = openStream(controlPlane.port, encodeLine({ type: "hello", node: { ...node("x", "x", 1), address: "nowhere" } }));
    expect(await bad.status).toBe(400);
    await waitFor("the error body", async () => bad.body(), (body) => body.includes("}"));
    expect(JSON.parse(bad.body())).toEqual({ error: expect.stringContaining("node.address: must be host:port") as string });
    bad.close();
  });

  it("registers a sidecar, pushes it a consistent snapshot, records its ACK, and tells its callers about it", async () => {
    const caller = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("web-0", "web", 31001, ["api"]) }));
    expect(await caller.status).toBe(200);
    const first = await caller.next();
    expect(first.snapshot).toEqual({
      service: "web",
      namespace: "default",
      clusters: { api: { service: "api", subset: null, endpoints: [], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } } },
      virtualHosts: [{ upstream: "api", routes: [{ match: [], destinations: [{ cluster: "api", weight: 100 }] }] }],
      inbound: { mtlsMode: "PERMISSIVE", authorization: [] },
      outboundMtls: { api: true },
    });
    caller.send({ type: "ack", version: first.version, nonce: first.nonce });

    const api = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("api-0", "api", 31011) }));
    const apiConfig = await api.next();
    api.send({ type: "ack", version: apiConfig.version, nonce: apiConfig.nonce });
    const second = await caller.next();
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.snapshot.clusters.api?.endpoints).toEqual([{ address: "127.0.0.1:31011", workloadId: "api-0", version: "v1", labels: { app: "api" } }]);
    caller.send({ type: "ack", version: second.version, nonce: second.nonce });

    const listed = await waitFor("both ACKs", sidecars, (list) => byId(list, "web-0")?.configVersion === second.version && byId(list, "api-0")?.acked === true);
    expect(byId(listed, "web-0")).toMatchObject({ service: "web", namespace: "default", connected: true, acked: true, lastError: null, address: "127.0.0.1:31001" });
    const services = await getJson<ServiceView[]>("/v1/services");
    expect(services.body).toContainEqual({ name: "api", namespace: "default", versions: ["v1"], instances: 1, endpoints: ["127.0.0.1:31011"] });

    // A NACK keeps the last ACKed version and records the error.
    api.close();
    const third = await caller.next();
    expect(third.snapshot.clusters.api?.endpoints).toEqual([]);
    caller.send({ type: "nack", version: third.version, nonce: third.nonce, error: "test: refused" });
    const afterNack = await waitFor("the NACK", sidecars, (list) => byId(list, "web-0")?.lastError === "test: refused");
    expect(byId(afterNack, "web-0")).toMatchObject({ configVersion: second.version, acked: false });
    expect(byId(afterNack, "api-0")).toMatchObject({ connected: false });
    caller.close();
    await waitFor("the disconnect", sidecars, (list) => byId(list, "web-0")?.connected === false);
  });

  it("ignores an ACK whose nonce is not the last push's", async () => {
    const client = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("stale-0", "stale", 31021) }));
    const config = await client.next();
    client.send({ type: "ack", version: config.version, nonce: "not-the-nonce" });
    client.send({ type: "ack", version: config.version, nonce: config.nonce });
    const listed = await waitFor("the ACK", sidecars, (list) => byId(list, "stale-0")?.configVersion === config.version);
    expect(byId(listed, "stale-0")?.acked).toBe(true);
    client.close();
  });

  it("keeps versions increasing across a restart and marks the previous run's sidecars disconnected", async () => {
    const client = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("restart-0", "restart", 31031) }));
    const before = await client.next();
    await controlPlane.stop();
    controlPlane = await startControlPlane({ db: testDb.db, port: controlPlane.port, disconnectGraceMs: 0 });
    expect((await sidecars()).every((s) => !s.connected)).toBe(true);

    const again = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("restart-0", "restart", 31031) }));
    const after = await again.next();
    expect(after.version).toBeGreaterThan(before.version);
    again.close();
    client.close();
  });

  it("after a restart, waits for the previous run's sidecars before pushing, so no caller sees a partial mesh", async () => {
    const web = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("web-1", "web", 31041, ["api"]) }));
    const api = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("api-1", "api", 31051) }));
    await waitFor("both registered", sidecars, (list) => ["web-1", "api-1"].every((id) => byId(list, id)?.connected === true));
    await controlPlane.stop();
    web.close();
    api.close();
    controlPlane = await startControlPlane({ db: testDb.db, port: controlPlane.port, disconnectGraceMs: 0 });

    // The caller is back first; its first push must already hold the upstream that reconnects after it.
    const webAgain = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("web-1", "web", 31041, ["api"]) }));
    expect(await webAgain.status).toBe(200);
    await waitFor("the caller's registration", sidecars, (list) => byId(list, "web-1")?.connected === true);
    // Well past the debounce, so that without the wait the caller would already have been pushed a partial mesh.
    await new Promise((resolve) => setTimeout(resolve, 10 * DEBOUNCE_MS));
    const apiAgain = openStream(controlPlane.port, encodeLine({ type: "hello", node: node("api-1", "api", 31051) }));
    const first = await webAgain.next();
    expect(first.snapshot.clusters.api?.endpoints.map((e) => e.workloadId)).toEqual(["api-1"]);
    webAgain.close();
    apiAgain.close();
  });
});
