// The mesh the outbound resilience tests run against: a frontend sidecar calling real peer sidecars (and, where a
// peer must misbehave at the connection level, bare endpoints registered with the real control plane), a
// programmable app behind each, and Istio policies applied through the control plane's REST API. A test file calls
// useResilienceMesh() once; vitest gives each file its own copy of this module, so each file gets its own mesh.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { createConfigStore } from "../config-store.ts";
import { startConfigStream, type ConfigStream } from "../config-stream.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import type { FinishedSpan } from "../telemetry/index.ts";
import { applyPolicies as applyThroughControlPlane, quiet, waitFor } from "../testing/mesh-test-kit.ts";
import type { ClusterView } from "./clusters-admin.ts";

export { quiet, waitFor };

export type Seen = { url: string; host: string | undefined; body: string; headers: http.IncomingHttpHeaders };
export type App = { port: number; seen: Seen[]; hits: (prefix: string) => number; held: http.ServerResponse[]; sick: { on: boolean }; close: () => Promise<void> };

/**
 * A programmable app. `/status/<code>/<n>/<key>`: the first n requests of key answer <code>, then 200.
 * `/always/<code>`: always <code>. `/slow/<ms>/<n>/<key>`: the first n requests wait ms first. `/hold`: answered
 * only when the test releases it. Anything else: 200 (500 while `sick`). Every answer echoes the body it got.
 */
export async function startApp(name: string): Promise<App> {
  const seen: Seen[] = [];
  const counts = new Map<string, number>();
  const held: http.ServerResponse[] = [];
  const sick = { on: false };
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const url = req.url ?? "/";
      seen.push({ url, host: req.headers.host, body, headers: req.headers });
      const count = (counts.get(url) ?? 0) + 1;
      counts.set(url, count);
      const answer = (status: number) => {
        res.writeHead(status, { "content-type": "text/plain", "x-app": name });
        res.end(`${name}:${count}:${body}`);
      };
      const [, kind, a, b] = url.split("/");
      if (kind === "status") return answer(count <= Number(b) ? Number(a) : 200);
      if (kind === "always") return answer(Number(a));
      if (kind === "slow") return count <= Number(b) ? void setTimeout(() => answer(200), Number(a)) : answer(200);
      if (kind === "hold") return void held.push(res);
      answer(sick.on ? 500 : 200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    hits: (prefix) => seen.filter((s) => s.url.startsWith(prefix)).length,
    held,
    sick,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

export type Reply = { status: number; flags: string | undefined; app: string | undefined; body: string };

export function send(port: number, path: string, { method = "GET", body, headers = {} }: { method?: string; body?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, flags: res.headers["x-trellis-response-flags"] as string | undefined, app: res.headers["x-app"] as string | undefined, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let testDb: TestDatabase;
let controlPlane: ControlPlane;
export let controlPlaneUrl: string;
export const closers: Array<() => Promise<void> | void> = [];
export const sidecars: Sidecar[] = [];
export let frontend: Sidecar;
export const frontendSpans: FinishedSpan[] = [];
export let otlpPort = 0;
export const UPSTREAMS = ["order-service", "ledger-service", "flaky-service", "outage-service", "hold-service", "bad-service", "counted-service"];
export const apps = new Map<string, App>();

export const outbound = (service: string) => frontend.ports.upstreams[service] ?? 0;
export const clusters = async () => ((await (await fetch(`http://127.0.0.1:${frontend.ports.admin}/clusters`)).json()) as { clusters: ClusterView[] }).clusters;
export const clusterView = async (name: string) => (await clusters()).find((c) => c.name === name);

export async function peer(service: string, version: string): Promise<App> {
  const app = await startApp(`${service}-${version}`);
  closers.push(app.close);
  const common = { mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: `http://127.0.0.1:${otlpPort}`, log: quiet } as const;
  sidecars.push(await startSidecar({ ...common, service, version, workload: `${service}-${version}`, appPort: app.port, upstreams: [] }));
  apps.set(`${service}-${version}`, app);
  return app;
}

/** An endpoint that is not a sidecar: registered with the control plane like one, at an address the test controls. */
export function registerBareEndpoint(service: string, id: string, address: string): ConfigStream {
  const node = { id, service, namespace: "default", version: "v1", mode: "sidecar" as const, labels: { app: service, version: "v1" }, address, inboundUrl: `http://${address}`, adminUrl: `http://${address}`, upstreams: [] };
  const stream = startConfigStream({ controlPlaneUrl, node, store: createConfigStore({ service }), log: quiet });
  closers.push(() => stream.stop());
  return stream;
}

/** Applies Istio YAML and waits until the frontend (the sidecar under test) ACKed it. */
export async function applyPolicies(yaml: string): Promise<void> {
  await applyThroughControlPlane(controlPlaneUrl, yaml, { author: "resilience test", mustAck: (id) => id === "frontend-v1" });
}

export function virtualService(host: string, http: string): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ${host}
spec:
  hosts:
  - ${host}
  http:
${http}`;
}

export const retrying = (host: string, retries: string) =>
  virtualService(host, `  - route:
    - destination:
        host: ${host}
    retries:
${retries}`);

/** Starts the mesh before this file's tests and stops it after them. */
export function useResilienceMesh(): void {
  beforeAll(async () => {
    testDb = await createTestDatabase();
    controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet });
    controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
    const otlp = http.createServer((req, res) => req.resume().on("end", () => res.end()));
    await new Promise<void>((resolve) => otlp.listen(0, "127.0.0.1", resolve));
    otlpPort = (otlp.address() as AddressInfo).port;
    closers.push(() => void (otlp.closeAllConnections(), otlp.close()));
    const frontendApp = await startApp("frontend");
    closers.push(frontendApp.close);
    frontend = await startSidecar({
      mode: "sidecar",
      namespace: "default",
      adminPort: 0,
      inboundPort: 0,
      controlPlaneUrl,
      otlpEndpoint: `http://127.0.0.1:${otlpPort}`,
      log: quiet,
      service: "frontend",
      version: "v1",
      workload: "frontend-v1",
      appPort: frontendApp.port,
      upstreams: UPSTREAMS.map((service) => ({ service, port: 0 })),
      onSpanEnd: (span) => frontendSpans.push(span),
    });
    sidecars.push(frontend);
    await peer("order-service", "v1");
    await peer("outage-service", "v1");
    await peer("hold-service", "v1");
    await peer("bad-service", "v1");
    await peer("bad-service", "v2");
    await peer("shadow-service", "v1");
    await waitFor("the frontend's clusters", clusters, (list) => ["order-service", "outage-service", "hold-service"].every((name) => list.some((c) => c.name === name && c.endpoints.length === 1)));
  });

  afterAll(async () => {
    await Promise.all(sidecars.map((s) => s.stop()));
    await controlPlane?.stop();
    for (const close of closers.reverse()) await close();
    await testDb?.drop();
  });
}
