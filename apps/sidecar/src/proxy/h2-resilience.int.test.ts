// Outbound resilience on the HTTP/2 / gRPC path, end to end: a frontend sidecar calling real peer sidecars (gRPC
// apps with @grpc/grpc-js, plain h2c apps) under Istio policies applied through the real control plane — a gRPC
// call retried on `unavailable` and answered by the second endpoint (URX when every attempt gets it), a per-try
// timeout retried elsewhere, breaker overflow (503 UO, gRPC UNAVAILABLE) with http2MaxRequests 1, and an h2
// endpoint ejected by outlier detection after consecutive 5xx.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import type { ClusterView } from "../outbound/clusters-admin.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import type { FinishedSpan } from "../telemetry/index.ts";
import { acceptH2c } from "./h2-listener.ts";
import { applyPolicies as applyThroughControlPlane, quiet, waitFor } from "../testing/mesh-test-kit.ts";

const PROTO = `
syntax = "proto3";
package echo;
service Echo { rpc Say (Msg) returns (Msg); }
message Msg { string text = 1; }
`;
type Msg = { text: string };
type EchoClient = grpc.Client & { Say: (msg: Partial<Msg>, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void };
/** A gRPC app's behaviour: answer, answer UNAVAILABLE, or hold the call until the test releases it. */
type GrpcApp = { port: number; calls: number; mode: "ok" | "unavailable" | "hold"; held: Array<() => void> };

let testDb: TestDatabase;
let dir: string;
let controlPlane: ControlPlane;
let controlPlaneUrl: string;
let EchoService: grpc.ServiceClientConstructor;
const closers: Array<() => Promise<void> | void> = [];
const sidecars: Sidecar[] = [];
let frontend: Sidecar;
const frontendSpans: FinishedSpan[] = [];
const UPSTREAMS = ["retry-grpc", "hold-grpc", "sick-h2"];
const grpcApps = new Map<string, GrpcApp>();
/** Per h2c app: whether it answers 500. */
const h2Sick = new Map<string, { on: boolean }>();


const outbound = (service: string) => frontend.ports.upstreams[service] ?? 0;
const clusters = async () => ((await (await fetch(`http://127.0.0.1:${frontend.ports.admin}/clusters`)).json()) as { clusters: ClusterView[] }).clusters;
const clusterView = async (name: string) => (await clusters()).find((c) => c.name === name);

async function startGrpcApp(name: string, mode: GrpcApp["mode"]): Promise<GrpcApp> {
  const app: GrpcApp = { port: 0, calls: 0, mode, held: [] };
  const server = new grpc.Server();
  server.addService(EchoService.service, {
    Say: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      app.calls += 1;
      if (app.mode === "unavailable") return callback({ code: grpc.status.UNAVAILABLE, details: `${name} is draining` });
      if (app.mode === "hold") return void app.held.push(() => callback(null, { text: `${name}:${call.request.text}` }));
      callback(null, { text: `${name}:${call.request.text}` });
    },
  });
  app.port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))));
  closers.push(() => void server.forceShutdown());
  grpcApps.set(name, app);
  return app;
}

/** An h2c app answering 200 with its name, or 500 while sick. */
async function startH2App(name: string): Promise<number> {
  const sick = { on: false };
  h2Sick.set(name, sick);
  const server = http.createServer((_req, res) => res.end());
  acceptH2c(server, (stream) => {
    stream.resume();
    stream.on("end", () => {
      stream.respond({ ":status": sick.on ? 500 : 200, "x-app": name });
      stream.end(name);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => void (server.closeAllConnections(), server.close()));
  return (server.address() as AddressInfo).port;
}

async function peer(service: string, workload: string, appPort: number): Promise<void> {
  sidecars.push(
    await startSidecar({ mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: "http://127.0.0.1:9", log: quiet, service, version: "v1", workload, appPort, upstreams: [] }),
  );
}

async function applyPolicies(yaml: string): Promise<void> {
  await applyThroughControlPlane(controlPlaneUrl, yaml, { author: "h2 resilience test", mustAck: (id) => id === "frontend-v1" });
}

const retrying = (host: string, retries: string) => `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ${host}
spec:
  hosts:
  - ${host}
  http:
  - route:
    - destination:
        host: ${host}
    retries:
${retries}`;

function grpcClient(service: string): EchoClient {
  const client = new EchoService(`127.0.0.1:${outbound(service)}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  closers.push(() => client.close());
  return client;
}

type CallResult = { text: string | null; code: number; details: string; flags: grpc.MetadataValue[] };
const say = (client: EchoClient, text: string) =>
  new Promise<CallResult>((resolve) =>
    client.Say({ text }, (error, reply) =>
      resolve(error ? { text: null, code: error.code, details: error.details, flags: error.metadata.get("x-trellis-response-flags") } : { text: reply?.text ?? "", code: 0, details: "", flags: [] }),
    ),
  );

/** One h2c request through the frontend's outbound listener: the status and which app answered. */
function h2Get(service: string, path: string): Promise<{ status: number; app: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${outbound(service)}`);
    session.on("error", reject);
    const req = session.request({ ":path": path });
    let status = 0;
    let app = "";
    req.on("response", (headers) => {
      status = Number(headers[":status"]);
      app = String(headers["x-app"] ?? "");
    });
    req.resume();
    req.on("end", () => {
      session.close();
      resolve({ status, app });
    });
    req.on("error", reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "trellis-h2-resilience-"));
  writeFileSync(join(dir, "echo.proto"), PROTO);
  const definition = grpc.loadPackageDefinition(await protoLoader.load(join(dir, "echo.proto"))) as unknown as { echo: { Echo: grpc.ServiceClientConstructor } };
  EchoService = definition.echo.Echo;
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet });
  controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
  frontend = await startSidecar({
    mode: "sidecar",
    namespace: "default",
    adminPort: 0,
    inboundPort: 0,
    controlPlaneUrl,
    otlpEndpoint: "http://127.0.0.1:9",
    log: quiet,
    service: "frontend",
    version: "v1",
    workload: "frontend-v1",
    appPort: 9,
    upstreams: UPSTREAMS.map((service) => ({ service, port: 0 })),
    onSpanEnd: (span) => frontendSpans.push(span),
  });
  sidecars.push(frontend);
  await peer("retry-grpc", "retry-grpc-draining", (await startGrpcApp("retry-grpc-draining", "unavailable")).port);
  await peer("retry-grpc", "retry-grpc-ok", (await startGrpcApp("retry-grpc-ok", "ok")).port);
  await peer("hold-grpc", "hold-grpc-0", (await startGrpcApp("hold-grpc-0", "hold")).port);
  await peer("sick-h2", "sick-h2-a", await startH2App("sick-h2-a"));
  await peer("sick-h2", "sick-h2-b", await startH2App("sick-h2-b"));
  await waitFor("the frontend's clusters", clusters, (list) =>
    [
      ["retry-grpc", 2],
      ["hold-grpc", 1],
      ["sick-h2", 2],
    ].every(([name, count]) => list.some((c) => c.name === name && c.endpoints.length === count)),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.stop()));
  await controlPlane?.stop();
  for (const close of closers.reverse()) await close();
  await testDb?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("gRPC retries", () => {
  it("retries a call answered UNAVAILABLE (retryOn: unavailable) on the other endpoint, and not under retryOn: 5xx", async () => {
    await applyPolicies(retrying("retry-grpc", "      attempts: 1\n      retryOn: unavailable\n"));
    const client = grpcClient("retry-grpc");
    const draining = grpcApps.get("retry-grpc-draining");
    if (draining === undefined) throw new Error("no draining app");
    const results: CallResult[] = [];
    for (let i = 0; i < 4; i += 1) results.push(await say(client, `c${i}`));
    expect(results.map((r) => r.text)).toEqual(["retry-grpc-ok:c0", "retry-grpc-ok:c1", "retry-grpc-ok:c2", "retry-grpc-ok:c3"]);
    expect(draining.calls).toBeGreaterThan(0);
    const counters = (await clusterView("retry-grpc"))?.counters;
    // Every call the draining endpoint saw was retried once, and the retry succeeded.
    expect([counters?.retries, counters?.retrySuccess]).toEqual([draining.calls, draining.calls]);
    const resent = frontendSpans.filter((s) => s.attributes["trellis.cluster"] === "retry-grpc" && s.attributes["http.request.resend_count"] === 1);
    expect(resent).toHaveLength(draining.calls);

    // A gRPC UNAVAILABLE is an HTTP 200: 5xx does not retry it, and the app's own status reaches the caller.
    await applyPolicies(retrying("retry-grpc", "      attempts: 1\n      retryOn: 5xx\n"));
    const before = draining.calls;
    const plain: CallResult[] = [];
    for (let i = 0; i < 2; i += 1) plain.push(await say(client, `p${i}`));
    expect(draining.calls).toBe(before + 1);
    expect(plain.filter((r) => r.code === grpc.status.UNAVAILABLE).map((r) => r.details)).toEqual(["retry-grpc-draining is draining"]);
  });

  it("gives the last UNAVAILABLE with flag URX when every attempt answers it", async () => {
    await applyPolicies(retrying("retry-grpc", "      attempts: 1\n      retryOn: unavailable,cancelled\n"));
    const ok = grpcApps.get("retry-grpc-ok");
    if (ok === undefined) throw new Error("no ok app");
    ok.mode = "unavailable";
    try {
      const exceededBefore = (await clusterView("retry-grpc"))?.counters.retryLimitExceeded ?? 0;
      const result = await say(grpcClient("retry-grpc"), "x");
      expect([result.code, result.flags]).toEqual([grpc.status.UNAVAILABLE, ["URX"]]);
      expect(result.details).toMatch(/^retry-grpc-(ok|draining) is draining$/);
      expect((await clusterView("retry-grpc"))?.counters.retryLimitExceeded).toBe(exceededBefore + 1);
    } finally {
      ok.mode = "ok";
    }
  });
});

describe("gRPC per-try timeout", () => {
  it("cancels an attempt that outlives perTryTimeout and retries it on the other endpoint", async () => {
    await applyPolicies(retrying("retry-grpc", "      attempts: 1\n      perTryTimeout: 150ms\n      retryOn: gateway-error\n"));
    const stuck = grpcApps.get("retry-grpc-draining");
    if (stuck === undefined) throw new Error("no draining app");
    stuck.mode = "hold";
    try {
      const timeoutsBefore = (await clusterView("retry-grpc"))?.counters.perTryTimeouts ?? 0;
      const heldBefore = stuck.held.length;
      const client = grpcClient("retry-grpc");
      const results: CallResult[] = [];
      for (let i = 0; i < 3; i += 1) results.push(await say(client, `t${i}`));
      expect(results.map((r) => r.text)).toEqual(["retry-grpc-ok:t0", "retry-grpc-ok:t1", "retry-grpc-ok:t2"]);
      const held = stuck.held.length - heldBefore;
      expect(held).toBeGreaterThan(0);
      expect((await clusterView("retry-grpc"))?.counters.perTryTimeouts).toBe(timeoutsBefore + held);
    } finally {
      stuck.mode = "unavailable";
      for (const release of stuck.held.splice(0)) release();
    }
  });
});

describe("HTTP/2 circuit breaking", () => {
  it("answers a call over http2MaxRequests at once with UNAVAILABLE and flag UO, and serves again once the first ends", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: hold-grpc
spec:
  host: hold-grpc
  trafficPolicy:
    connectionPool:
      http:
        http2MaxRequests: 1
`);
    const app = grpcApps.get("hold-grpc-0");
    if (app === undefined) throw new Error("no hold app");
    const client = grpcClient("hold-grpc");
    const first = say(client, "first");
    await waitFor("the first call to reach the app", () => app.held.length, (n) => n === 1);
    const second = await say(client, "second");
    expect(second.code).toBe(grpc.status.UNAVAILABLE);
    expect(second.flags).toEqual(["UO"]);
    expect(second.details).toContain('cluster "hold-grpc" already has 1 requests in flight');
    expect(app.calls).toBe(1);
    expect((await clusterView("hold-grpc"))?.counters.overflowRequests).toBe(1);
    app.held.shift()?.();
    expect((await first).text).toBe("hold-grpc-0:first");
    app.mode = "ok";
    expect((await say(client, "third")).text).toBe("hold-grpc-0:third");
  });
});

describe("HTTP/2 outlier detection", () => {
  it("ejects an h2 endpoint after consecutive 5xx and sends everything to the other", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: sick-h2
spec:
  host: sick-h2
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 2
      interval: 100ms
      baseEjectionTime: 60s
      maxEjectionPercent: 50
---
${retrying("sick-h2", "      attempts: 0\n")}`);
    const sick = h2Sick.get("sick-h2-a");
    if (sick === undefined) throw new Error("no sick app");
    sick.on = true;
    const early: Array<{ status: number; app: string }> = [];
    for (let i = 0; i < 6; i += 1) early.push(await h2Get("sick-h2", "/work"));
    expect(early.filter((r) => r.status === 500).map((r) => r.app)).toEqual(["sick-h2-a", "sick-h2-a"]);
    const view = await clusterView("sick-h2");
    expect(view?.endpoints.find((e) => e.workloadId === "sick-h2-a")).toMatchObject({ health: "ejected", timesEjected: 1 });
    expect(view?.counters.ejections).toBe(1);
    const during: Array<{ status: number; app: string }> = [];
    for (let i = 0; i < 6; i += 1) during.push(await h2Get("sick-h2", "/work"));
    expect(during.every((r) => r.status === 200 && r.app === "sick-h2-b")).toBe(true);
  });
});
