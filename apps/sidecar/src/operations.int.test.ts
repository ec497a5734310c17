// Operating the data plane under load (real sidecars with mesh certificates, real control plane and CA, mesh-wide
// STRICT mTLS, loopback): config swaps while 20 kept-alive clients send, the control plane killed and restarted
// mid-stream, a long streamed answer across a swap, and the graceful drain (/ready 503, no new connections,
// `Connection: close`, in-flight requests finish).
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startSidecar, type Sidecar } from "./sidecar.ts";
import { applyPolicies as applyThroughControlPlane, quiet, waitFor } from "./testing/mesh-test-kit.ts";

const joinSecret = "operations-test-secret-0123456789abcdef";
/** Mesh-wide STRICT; the drain test's namespace is PERMISSIVE so a plain client can reach its sidecar's inbound. */
const PEER_AUTHENTICATION = `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: drain
spec:
  mtls:
    mode: PERMISSIVE
`;
const CLIENTS = 20;
const STREAM_CHUNKS = 12;
const CHUNK_GAP_MS = 50;

type Server = { port: number; server: http.Server; close: () => Promise<void> };

async function serve(handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))),
  };
}

/** An order-service instance: answers its version; /stream sends a numbered chunk every 50 ms, 12 in all. */
function orderApp(version: string): Promise<Server> {
  return serve((req, res) => {
    req.resume();
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/plain", "x-version": version });
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        res.write(`chunk ${sent}\n`);
        if (sent === STREAM_CHUNKS) {
          clearInterval(timer);
          res.end();
        }
      }, CHUNK_GAP_MS);
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(version);
  });
}

type Reply = { status: number; body: string; headers: http.IncomingHttpHeaders };

function get(port: number, path: string, agent: http.Agent | false, onFirstByte?: () => void): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body === "") onFirstByte?.();
        body += chunk;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on("error", fail);
    });
    req.on("error", fail);
  });
}

/** `CLIENTS` kept-alive clients sending back to back until stopped; every answer that is not a 200 is a failure. */
function startLoad(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const versions = new Map<string, number>();
  const client = async () => {
    while (running) {
      try {
        const reply = await get(port, "/orders", agent);
        if (reply.status === 200) {
          ok += 1;
          versions.set(reply.body, (versions.get(reply.body) ?? 0) + 1);
        } else failures.push(`${reply.status} ${String(reply.headers["x-trellis-response-flags"] ?? "")} ${reply.body.slice(0, 200)}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients);
      agent.destroy();
      return { ok, failures, versions };
    },
    completed: () => ok + failures.length,
  };
}


const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

type ConfigDump = {
  version: number | null;
  snapshot: { clusters: Record<string, { endpoints: unknown[] }>; inbound?: { mtlsMode: string } } | null;
  stream: { connected: boolean } | null;
};

function canary(v1: number, timeout: string): string {
  return `${PEER_AUTHENTICATION}---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts:
  - order-service
  http:
  - timeout: ${timeout}
    route:
    - destination:
        host: order-service
        subset: v1
      weight: ${v1}
    - destination:
        host: order-service
        subset: v2
      weight: ${100 - v1}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: order-service
spec:
  host: order-service
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`;
}

let testDb: TestDatabase;
let caDir: string;
let controlPlane: ControlPlane;
let controlPlanePort = 0;
const servers: Server[] = [];
const sidecars: Sidecar[] = [];
let frontend: Sidecar;

const outbound = () => frontend.ports.upstreams["order-service"] ?? 0;
const configDump = (sidecar: Sidecar = frontend) => fetch(`http://127.0.0.1:${sidecar.ports.admin}/config_dump`).then((r) => r.json() as Promise<ConfigDump>);

async function applyPolicies(yaml: string): Promise<void> {
  await applyThroughControlPlane(`http://127.0.0.1:${controlPlanePort}`, yaml, { author: "operations test" });
}

/** The control plane with its mesh CA (the same root across restarts, so issued certificates stay valid). */
const startMeshControlPlane = (port: number) =>
  startControlPlane({ db: testDb.db, port, log: quiet, ca: { root: { kind: "dir", dir: caDir }, trustDomain: "cluster.local", certTtlMs: 3_600_000, joinSecret } });

async function mintToken(namespace: string, service: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${controlPlanePort}/v1/join-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${joinSecret}` },
    body: JSON.stringify({ namespace, service }),
  });
  if (response.status !== 200) throw new Error(`join token for ${service}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

const readyStatus = (sidecar: Sidecar) => fetch(`http://127.0.0.1:${sidecar.ports.admin}/ready`).then(async (r) => `${r.status} ${await r.text()}`);

beforeAll(async () => {
  testDb = await createTestDatabase();
  caDir = mkdtempSync(join(tmpdir(), "trellis-operations-"));
  controlPlane = await startMeshControlPlane(0);
  controlPlanePort = controlPlane.port;
  const controlPlaneUrl = `http://127.0.0.1:${controlPlanePort}`;
  const otlp = await serve((req, res) => req.resume().on("end", () => res.end()));
  const frontendApp = await serve((_req, res) => res.end("frontend"));
  const [v1App, v2App] = [await orderApp("v1"), await orderApp("v2")];
  servers.push(otlp, frontendApp, v1App, v2App);
  const common = { mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: `http://127.0.0.1:${otlp.port}`, log: quiet } as const;
  await applyPolicies(canary(90, "5s"));
  frontend = await startSidecar({
    ...common,
    service: "frontend",
    version: "v1",
    workload: "frontend-v1-0",
    appPort: frontendApp.port,
    upstreams: [{ service: "order-service", port: 0 }],
    joinToken: await mintToken("default", "frontend"),
  });
  sidecars.push(frontend);
  for (const [version, app] of [["v1", v1App], ["v2", v2App]] as const) {
    const joinToken = await mintToken("default", "order-service");
    sidecars.push(await startSidecar({ ...common, service: "order-service", version, workload: `order-${version}-0`, appPort: app.port, upstreams: [], joinToken }));
  }
  for (const sidecar of sidecars) await waitFor("each sidecar to hold a certificate and a config", () => readyStatus(sidecar), (status) => status.startsWith("200"));
  await waitFor("frontend to see both order-service instances", configDump, (dump) => ["v1", "v2"].every((v) => dump.snapshot?.clusters[`order-service|${v}`]?.endpoints.length === 1));
});

afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.stop()));
  await controlPlane?.stop();
  await Promise.all(servers.map((s) => s.close()));
  await testDb?.drop();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

describe("config swaps under load", () => {
  it(`serves ${CLIENTS} kept-alive clients without one failed request while policies are applied again and again`, async () => {
    const before = (await configDump()).version ?? 0;
    const orderV1 = sidecars[1];
    expect(orderV1 && (await configDump(orderV1)).snapshot?.inbound?.mtlsMode).toBe("STRICT"); // the hop under load is mTLS
    const load = startLoad(outbound());
    const swaps = [canary(50, "5s"), canary(90, "5s"), canary(50, "3s"), canary(90, "4s"), canary(50, "5s"), canary(90, "5s")];
    for (const yaml of swaps) {
      await applyPolicies(yaml);
      await sleep(300);
    }
    const { ok, failures, versions } = await load.stop();
    expect(failures.slice(0, 5)).toEqual([]);
    expect(ok).toBeGreaterThan(swaps.length * CLIENTS);
    expect([...versions.keys()].sort()).toEqual(["v1", "v2"]);
    expect((await configDump()).version).toBeGreaterThanOrEqual(before + swaps.length);
  });

  it("finishes a long streamed answer that was in flight across a swap", async () => {
    await applyPolicies(canary(100, "5s")); // the stream goes to v1, then the swap sends everything to v2
    const agent = new http.Agent({ keepAlive: true });
    let firstByte: () => void = () => {};
    const started = new Promise<void>((wake) => (firstByte = wake));
    const stream = get(outbound(), "/stream", agent, () => firstByte());
    await started;
    await applyPolicies(canary(0, "5s"));
    const reply = await stream;
    const after = await get(outbound(), "/orders", agent);
    agent.destroy();
    expect(reply.status).toBe(200);
    expect(reply.headers["x-version"]).toBe("v1");
    expect(reply.body.split("\n").filter(Boolean)).toEqual(Array.from({ length: STREAM_CHUNKS }, (_, i) => `chunk ${i + 1}`));
    expect(after.body).toBe("v2");
  });
});

describe("control plane lost under load", () => {
  it("keeps serving on the last config while the control plane is down, then resyncs and ACKs when it is back", async () => {
    await applyPolicies(canary(50, "5s"));
    const lastVersion = (await configDump()).version;
    const load = startLoad(outbound());
    await waitFor("the load to be flowing", () => load.completed(), (n) => n > CLIENTS);
    await controlPlane.stop();
    await waitFor("every sidecar to notice the control plane is gone", () => Promise.all(sidecars.map((s) => configDump(s))), (dumps) => dumps.every((d) => d.stream?.connected === false));
    const whileDown = load.completed();
    await waitFor("more requests served without a control plane", () => load.completed(), (n) => n > whileDown + 200);
    const ready = await fetch(`http://127.0.0.1:${frontend.ports.admin}/ready`);
    expect(ready.status).toBe(200);
    expect((await configDump()).version).toBe(lastVersion);

    controlPlane = await startMeshControlPlane(controlPlanePort);
    const rows = await waitFor(
      "every sidecar to reconnect and ACK",
      () => fetch(`http://127.0.0.1:${controlPlanePort}/v1/sidecars`).then((r) => r.json() as Promise<Array<{ id: string; connected: boolean; acked: boolean; configVersion: number | null }>>),
      (list) => ["frontend-v1-0", "order-v1-0", "order-v2-0"].every((id) => list.some((row) => row.id === id && row.connected && row.acked)),
      20_000,
    );
    const { ok, failures, versions } = await load.stop();
    expect(failures.slice(0, 5)).toEqual([]);
    expect(ok).toBeGreaterThan(200);
    expect([...versions.keys()].sort()).toEqual(["v1", "v2"]);
    const dump = await configDump();
    expect(dump.stream?.connected).toBe(true);
    expect(rows.find((row) => row.id === "frontend-v1-0")?.configVersion).toBe(dump.version);
    // And the restarted control plane's changes arrive: a new apply is ACKed by every sidecar.
    await applyPolicies(canary(90, "5s"));
  });
});

describe("graceful drain", () => {
  it("turns /ready 503, refuses new connections, closes kept-alive ones after their answer, finishes in-flight requests", async () => {
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((wake) => (arrived = wake));
    const app = await serve((req, res) => {
      req.resume();
      if (req.url === "/slow") {
        arrived();
        setTimeout(() => res.end("slow answer"), 400);
        return;
      }
      res.end("fast answer");
    });
    servers.push(app);
    const sidecar = await startSidecar({
      mode: "sidecar",
      namespace: "drain",
      service: "drain-service",
      version: "v1",
      workload: "drain-service-0",
      adminPort: 0,
      inboundPort: 0,
      appPort: app.port,
      upstreams: [],
      controlPlaneUrl: `http://127.0.0.1:${controlPlanePort}`,
      otlpEndpoint: `http://127.0.0.1:${servers[0]?.port ?? 0}`,
      drainTimeoutMs: 5_000,
      log: quiet,
    });
    const inbound = sidecar.ports.inbound ?? 0;
    const admin = `http://127.0.0.1:${sidecar.ports.admin}`;
    await waitFor("the drain sidecar to be ready", () => fetch(`${admin}/ready`).then((r) => r.status), (status) => status === 200);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(inbound, "/warm", agent)).headers.connection).toBe("keep-alive");
    const inFlight = get(inbound, "/slow", agent);
    await slowArrived;
    const stopped = sidecar.stop();

    const ready = await fetch(`${admin}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "draining" });
    const refused = await get(inbound, "/new", false).then(
      (reply) => `answered ${reply.status}`,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toBe("ECONNREFUSED");

    const reply = await inFlight;
    expect(reply).toMatchObject({ status: 200, body: "slow answer" });
    expect(reply.headers.connection).toBe("close");
    await stopped;
    agent.destroy();
  });
});
