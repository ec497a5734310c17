// Outbound resilience end to end: a frontend sidecar calling real peer sidecars (and, where a peer must misbehave
// at the connection level, bare endpoints registered with the real control plane) under Istio policies applied
// through the control plane's REST API — each retry condition, per-try timeout, the retry budget during an outage,
// breaker overflow and recovery, outlier ejection and return, and mirroring.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { createConfigStore } from "../config-store.ts";
import { startConfigStream, type ConfigStream } from "../config-stream.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import type { ClusterView } from "./clusters-admin.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

type Seen = { url: string; host: string | undefined; body: string; headers: http.IncomingHttpHeaders };
type App = { port: number; seen: Seen[]; hits: (prefix: string) => number; held: http.ServerResponse[]; sick: { on: boolean }; close: () => Promise<void> };

/**
 * A programmable app. `/status/<code>/<n>/<key>`: the first n requests of key answer <code>, then 200.
 * `/always/<code>`: always <code>. `/slow/<ms>/<n>/<key>`: the first n requests wait ms first. `/hold`: answered
 * only when the test releases it. Anything else: 200 (500 while `sick`). Every answer echoes the body it got.
 */
async function startApp(name: string): Promise<App> {
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

type Reply = { status: number; flags: string | undefined; app: string | undefined; body: string };

function send(port: number, path: string, { method = "GET", body, headers = {} }: { method?: string; body?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Reply> {
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

async function waitFor<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 800)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let testDb: TestDatabase;
let controlPlane: ControlPlane;
let controlPlaneUrl: string;
const closers: Array<() => Promise<void> | void> = [];
const sidecars: Sidecar[] = [];
let frontend: Sidecar;
const frontendSpans = new InMemorySpanExporter();
let otlpPort = 0;
const UPSTREAMS = ["order-service", "ledger-service", "flaky-service", "outage-service", "hold-service", "bad-service", "counted-service"];
const apps = new Map<string, App>();

const outbound = (service: string) => frontend.ports.upstreams[service] ?? 0;
const clusters = async () => ((await (await fetch(`http://127.0.0.1:${frontend.ports.admin}/clusters`)).json()) as { clusters: ClusterView[] }).clusters;
const clusterView = async (name: string) => (await clusters()).find((c) => c.name === name);

async function peer(service: string, version: string): Promise<App> {
  const app = await startApp(`${service}-${version}`);
  closers.push(app.close);
  const common = { mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: `http://127.0.0.1:${otlpPort}`, log: quiet } as const;
  sidecars.push(await startSidecar({ ...common, service, version, workload: `${service}-${version}`, appPort: app.port, upstreams: [] }));
  apps.set(`${service}-${version}`, app);
  return app;
}

/** An endpoint that is not a sidecar: registered with the control plane like one, at an address the test controls. */
function registerBareEndpoint(service: string, id: string, address: string): ConfigStream {
  const node = { id, service, namespace: "default", version: "v1", mode: "sidecar" as const, labels: { app: service, version: "v1" }, address, inboundUrl: `http://${address}`, adminUrl: `http://${address}`, upstreams: [] };
  const stream = startConfigStream({ controlPlaneUrl, node, store: createConfigStore({ service }), log: quiet });
  closers.push(() => stream.stop());
  return stream;
}

async function applyPolicies(yaml: string): Promise<void> {
  const response = await fetch(`${controlPlaneUrl}/v1/policies/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ yaml, author: "resilience test", wait: true }),
  });
  const body = (await response.json()) as { error?: string; sidecars: Array<{ id: string; status: string }> | null };
  if (response.status !== 200) throw new Error(`apply failed (${response.status}): ${body.error ?? JSON.stringify(body)}`);
  expect(body.sidecars?.filter((s) => s.status !== "acked" && s.id === "frontend-v1") ?? []).toEqual([]);
}

function virtualService(host: string, http: string): string {
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

const retrying = (host: string, retries: string) =>
  virtualService(host, `  - route:
    - destination:
        host: ${host}
    retries:
${retries}`);

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
    spanProcessors: [new SimpleSpanProcessor({ exporter: frontendSpans })],
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

describe("retries", () => {
  it("retries 5xx and replays the request body; the caller sees only the final answer", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 3\n      retryOn: 5xx\n"));
    const app = apps.get("order-service-v1");
    const reply = await send(outbound("order-service"), "/status/500/2/a", { method: "POST", body: "payload" });
    expect(reply).toMatchObject({ status: 200, flags: undefined, body: "order-service-v1:3:payload" });
    expect(app?.seen.filter((s) => s.url === "/status/500/2/a").map((s) => s.body)).toEqual(["payload", "payload", "payload"]);
    expect(app?.seen.at(-1)?.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect((await clusterView("order-service"))?.counters).toMatchObject({ retries: 2, retrySuccess: 1 });
    // One CLIENT span per attempt, in one trace, each saying what its attempt got.
    const spans = await waitFor("three attempt spans", () => frontendSpans.getFinishedSpans().filter((span) => span.attributes["url.path"] === "/status/500/2/a"), (list) => list.length === 3);
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
    expect(spans.map((span) => [span.attributes["http.response.status_code"], span.attributes["http.request.resend_count"] ?? 0]).sort()).toEqual([
      [200, 2],
      [500, 0],
      [500, 1],
    ]);
  });

  it("does not retry a request whose body is over the 1 MiB retry buffer", async () => {
    const big = "x".repeat(1024 * 1024 + 1);
    const reply = await send(outbound("order-service"), "/status/500/1/big", { method: "PUT", body: big });
    expect(reply.status).toBe(500);
    expect(reply.body.length).toBe("order-service-v1:1:".length + big.length);
    expect(apps.get("order-service-v1")?.hits("/status/500/1/big")).toBe(1);
  });

  it("gives up with the last answer and URX when attempts run out", async () => {
    const reply = await send(outbound("order-service"), "/always/503");
    expect(reply).toMatchObject({ status: 503, flags: "URX" });
    expect(apps.get("order-service-v1")?.hits("/always/503")).toBe(4);
  });

  it("retries gateway errors but not other 5xx under gateway-error", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 2\n      retryOn: gateway-error\n"));
    expect(await send(outbound("order-service"), "/status/502/1/b")).toMatchObject({ status: 200 });
    expect(await send(outbound("order-service"), "/status/500/1/c")).toMatchObject({ status: 500, flags: undefined });
    expect(apps.get("order-service-v1")?.hits("/status/500/1/c")).toBe(1);
  });

  it("retries 409 under retriable-4xx", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 2\n      retryOn: retriable-4xx\n"));
    expect(await send(outbound("order-service"), "/status/409/1/d")).toMatchObject({ status: 200, body: "order-service-v1:2:" });
  });

  it("ends a slow attempt at the per-try timeout and retries it", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 2\n      perTryTimeout: 100ms\n      retryOn: gateway-error\n"));
    const reply = await send(outbound("order-service"), "/slow/2000/1/e");
    expect(reply).toMatchObject({ status: 200, body: "order-service-v1:2:" });
    expect((await clusterView("order-service"))?.counters.perTryTimeouts).toBe(1);
  });

  it("retries a connect failure on another endpoint (Istio's default policy, no VirtualService)", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    registerBareEndpoint("ledger-service", "ledger-dead", `127.0.0.1:${deadPort}`);
    await waitFor("the dead ledger endpoint", () => clusterView("ledger-service"), (c) => c?.endpoints.length === 1);
    // Only a dead endpoint: the default policy tries 3 times, then says UF and URX.
    const reply = await send(outbound("ledger-service"), "/entries");
    expect(reply).toMatchObject({ status: 503, flags: "UF,URX" });
    expect(reply.body).toContain("after 3 attempts");

    const ledger = await startApp("ledger");
    closers.push(ledger.close);
    const common = { mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: `http://127.0.0.1:${otlpPort}`, log: quiet } as const;
    sidecars.push(await startSidecar({ ...common, service: "ledger-service", version: "v1", workload: "ledger-live", appPort: ledger.port, upstreams: [] }));
    await waitFor("both ledger endpoints", () => clusterView("ledger-service"), (c) => c?.endpoints.length === 2);
    const replies = await Promise.all(Array.from({ length: 6 }, () => send(outbound("ledger-service"), "/entries")));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(ledger.hits("/entries")).toBe(6);
  });

  it("retries a connection reset under reset, and not without it", async () => {
    let resets = 0;
    const flaky = http.createServer((req, res) => {
      resets += 1;
      // Half a status line, then the connection drops: a reset before any response the proxy could pass on.
      if (resets <= 1 || req.url === "/always-reset") return void req.socket.end("HTTP/1.1 200 O", () => req.socket.destroy());
      res.end("survived");
    });
    await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
    closers.push(() => void (flaky.closeAllConnections(), flaky.close()));
    registerBareEndpoint("flaky-service", "flaky-0", `127.0.0.1:${(flaky.address() as AddressInfo).port}`);
    await waitFor("the flaky endpoint", () => clusterView("flaky-service"), (c) => c?.endpoints.length === 1);
    await applyPolicies(retrying("flaky-service", "      attempts: 2\n      retryOn: reset\n"));
    expect(await send(outbound("flaky-service"), "/once")).toMatchObject({ status: 200, body: "survived" });
    await applyPolicies(retrying("flaky-service", "      attempts: 2\n      retryOn: retriable-4xx\n"));
    const before = resets;
    expect(await send(outbound("flaky-service"), "/always-reset")).toMatchObject({ status: 503, flags: "UC" });
    expect(resets - before).toBe(1);
  });
});

describe("telemetry", () => {
  it("reports each request once with its attempts' flags, and retries as cluster events", async () => {
    const scrape = () => fetch(`http://127.0.0.1:${frontend.ports.admin}/stats/prometheus`).then((r) => r.text());
    const lines = (text: string, ...parts: string[]) => text.split("\n").filter((line) => parts.every((part) => line.includes(part)));
    const text = await waitFor("the frontend's metrics", scrape, (t) => lines(t, "istio_requests_total", 'response_flags="UF,URX"').length > 0);
    expect(lines(text, "istio_requests_total", 'reporter="source"', 'destination_service_name="ledger-service"', 'response_code="503"', 'response_flags="UF,URX"', 'source_workload="frontend-v1"')).toHaveLength(1);
    expect(lines(text, "trellis_upstream_events_total", 'cluster_name="order-service"', 'event="retry"')).toHaveLength(1);
    expect(lines(text, "trellis_upstream_events_total", 'cluster_name="ledger-service"', 'event="retry_limit_exceeded"')).toHaveLength(1);
  });
});

describe("retry budget", () => {
  it("keeps retries to a small share during an outage: 100 concurrent requests with attempts 5 against an always-503 app", async () => {
    await applyPolicies(retrying("outage-service", "      attempts: 5\n      retryOn: 5xx\n"));
    const app = apps.get("outage-service-v1");
    const replies = await Promise.all(Array.from({ length: 100 }, () => send(outbound("outage-service"), "/always/503")));
    expect(replies.every((r) => r.status === 503 && r.flags === "URX")).toBe(true);
    const hits = app?.hits("/always/503") ?? 0;
    // Without a budget the app would see 600. The budget allows max(20% of active, 3) retries in flight.
    expect(hits).toBeGreaterThan(100);
    expect(hits).toBeLessThan(250);
    const view = await clusterView("outage-service");
    expect(view?.counters.retryOverflow).toBeGreaterThan(0);
    expect(view?.counters.retries).toBe(hits - 100);
  });
});

describe("circuit breaking", () => {
  it("answers overflow at once with 503 UO, then recovers", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: hold-service
spec:
  host: hold-service
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
`);
    const app = apps.get("hold-service-v1");
    if (app === undefined) throw new Error("no hold-service app");
    const first = send(outbound("hold-service"), "/hold");
    await waitFor("the first request at the app", () => app.held.length, (n) => n === 1);
    const second = send(outbound("hold-service"), "/hold");
    await waitFor("the second request pending", () => clusterView("hold-service"), (c) => c?.pendingRequests === 1);
    const third = await send(outbound("hold-service"), "/hold");
    expect(third).toMatchObject({ status: 503, flags: "UO" });
    expect(third.body).toContain("http1MaxPendingRequests");
    expect(app.held).toHaveLength(1);

    app.held.shift()?.end("released");
    await waitFor("the second request at the app", () => app.held.length, (n) => n === 1);
    app.held.shift()?.end("released");
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
    const after = send(outbound("hold-service"), "/hold");
    await waitFor("recovery", () => app.held.length, (n) => n === 1);
    app.held.shift()?.end("released");
    expect((await after).status).toBe(200);
    const view = await clusterView("hold-service");
    expect(view?.counters.overflowPending).toBe(1);
    expect(view?.connections).toBeLessThanOrEqual(1);
  });

  it("answers 503 UO when maxRequests are in flight", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: hold-service
spec:
  host: hold-service
  trafficPolicy:
    connectionPool:
      http:
        http2MaxRequests: 1
`);
    const app = apps.get("hold-service-v1");
    if (app === undefined) throw new Error("no hold-service app");
    const first = send(outbound("hold-service"), "/hold");
    await waitFor("the first request at the app", () => app.held.length, (n) => n === 1);
    expect(await send(outbound("hold-service"), "/hold")).toMatchObject({ status: 503, flags: "UO" });
    app.held.shift()?.end("released");
    expect((await first).status).toBe(200);
    expect((await clusterView("hold-service"))?.counters.overflowRequests).toBe(1);
  });
});

describe("connection reuse", () => {
  it("reuses one kept-alive connection, and closes it after maxRequestsPerConnection requests", async () => {
    let connections = 0;
    const counted = http.createServer((_req, res) => res.end("counted"));
    counted.on("connection", () => (connections += 1));
    await new Promise<void>((resolve) => counted.listen(0, "127.0.0.1", resolve));
    closers.push(() => void (counted.closeAllConnections(), counted.close()));
    registerBareEndpoint("counted-service", "counted-0", `127.0.0.1:${(counted.address() as AddressInfo).port}`);
    await waitFor("the counted endpoint", () => clusterView("counted-service"), (c) => c?.endpoints.length === 1);
    for (let i = 0; i < 4; i += 1) expect((await send(outbound("counted-service"), "/a")).status).toBe(200);
    expect(connections).toBe(1);

    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: counted-service
spec:
  host: counted-service
  trafficPolicy:
    connectionPool:
      http:
        maxRequestsPerConnection: 2
`);
    const before = connections;
    for (let i = 0; i < 6; i += 1) expect((await send(outbound("counted-service"), "/b")).status).toBe(200);
    // The limit counts from when it applies: the open connection serves 2 more, then each new one 2.
    expect(connections - before).toBe(2);
    for (let i = 0; i < 2; i += 1) expect((await send(outbound("counted-service"), "/c")).status).toBe(200);
    expect(connections - before).toBe(3);
  });
});

describe("outlier detection", () => {
  it("ejects an endpoint after consecutive 5xx, sends everything to the other, and takes it back after the ejection time", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: bad-service
spec:
  host: bad-service
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 2
      interval: 100ms
      baseEjectionTime: 500ms
      maxEjectionPercent: 50
---
${retrying("bad-service", "      attempts: 0\n")}`);
    const sick = apps.get("bad-service-v1");
    if (sick === undefined) throw new Error("no bad-service app");
    sick.sick.on = true;
    const early: Reply[] = [];
    for (let i = 0; i < 6; i += 1) early.push(await send(outbound("bad-service"), "/work"));
    expect(early.filter((r) => r.status === 500)).toHaveLength(2);
    const view = await clusterView("bad-service");
    expect(view?.endpoints.find((e) => e.workloadId === "bad-service-v1")).toMatchObject({ health: "ejected", timesEjected: 1 });
    expect(view?.counters.ejections).toBe(1);
    const during: Reply[] = [];
    for (let i = 0; i < 6; i += 1) during.push(await send(outbound("bad-service"), "/work"));
    expect(during.every((r) => r.status === 200 && r.app === "bad-service-v2")).toBe(true);

    sick.sick.on = false;
    await waitFor("the return", () => clusterView("bad-service"), (c) => c?.endpoints.every((e) => e.health === "healthy") === true);
    const back = new Set<string | undefined>();
    for (let i = 0; i < 4; i += 1) back.add((await send(outbound("bad-service"), "/work")).app);
    expect([...back].sort()).toEqual(["bad-service-v1", "bad-service-v2"]);
  });
});

describe("mirroring", () => {
  it("sends a copy to the shadow service with the authority suffixed -shadow, leaving the main answer alone", async () => {
    await applyPolicies(virtualService("order-service", `  - route:
    - destination:
        host: order-service
    mirror:
      host: shadow-service
    mirrorPercentage:
      value: 100
`));
    const shadow = apps.get("shadow-service-v1");
    const reply = await send(outbound("order-service"), "/mirrored", { method: "POST", body: "copy-me", headers: { host: "order-service:80" } });
    expect(reply).toMatchObject({ status: 200, app: "order-service-v1" });
    const copy = await waitFor("the shadow copy", () => shadow?.seen.find((s) => s.url === "/mirrored"), (s) => s !== undefined);
    expect(copy).toMatchObject({ host: "order-service-shadow:80", body: "copy-me" });
    expect(apps.get("order-service-v1")?.hits("/mirrored")).toBe(1);
  });
});
