// A small real mesh in one process: a control plane on a real Postgres, sidecars and a gateway started with
// startSidecar, plain http.createServer apps behind them, and a tiny OTLP/HTTP receiver. Requests go
// app → outbound listener → peer inbound → app exactly as in production; spans are read back in memory (the
// onSpanEnd hook) and checked to arrive as OTLP protobuf.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { decodeTraceRequest, type SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import type { SidecarModeOptions } from "./options.ts";
import { startSidecar, type Sidecar } from "./sidecar.ts";
import type { FinishedSpan } from "./telemetry/index.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

type Seen = { url: string; headers: http.IncomingHttpHeaders; body: string };
type App = { name: string; port: number; seen: Seen[]; connections: () => number; close: () => Promise<void> };

/** A plain app: answers with its name and what it received, so tests can see what the sidecar forwarded. */
async function startApp(name: string): Promise<App> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json", "x-app": name });
      res.end(JSON.stringify({ app: name, body }));
    });
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    connections: () => connections,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

type OtlpReceiver = { url: string; requests: Array<{ path: string; contentType: string; bytes: number }>; spans: SpanRecord[]; close: () => Promise<void> };

async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: OtlpReceiver["requests"] = [];
  const spans: SpanRecord[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ path: req.url ?? "", contentType: String(req.headers["content-type"]), bytes: body.length });
      if (req.url === "/v1/traces") spans.push(...decodeTraceRequest(new Uint8Array(body), "protobuf").spans);
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    spans,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

type Response = { status: number; headers: http.IncomingHttpHeaders; body: string; reusedSocket: boolean };

function request(port: number, { path = "/", method = "GET", headers = {}, body, agent }: { path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: agent ?? false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, reusedSocket: req.reusedSocket }));
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
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  return (await response.json()) as T;
}

type ConfigDump = {
  version: number | null;
  snapshot: {
    clusters: Record<string, { service: string; subset: string | null; endpoints: Array<{ workloadId: string }>; trafficPolicy: unknown }>;
    virtualHosts: Array<{ upstream: string; routes: unknown[] }>;
  } | null;
};
type SidecarRow = { id: string; connected: boolean; configVersion: number | null; acked: boolean };

function parseTraceparent(value: unknown): { traceId: string; parentId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(value));
  if (!match) throw new Error(`not a traceparent: ${String(value)}`);
  return { traceId: match[1] ?? "", parentId: match[2] ?? "" };
}


let testDb: TestDatabase;
let controlPlane: ControlPlane;
let controlPlaneUrl: string;
let otlp: OtlpReceiver;
const apps: App[] = [];
const running: Sidecar[] = [];
let frontendApp: App;
let catalogApp: App;
let frontend: Sidecar;
let catalog: Sidecar;
const frontendSpans: FinishedSpan[] = [];
const catalogSpans: FinishedSpan[] = [];

async function sidecar(options: Omit<SidecarModeOptions, "mode" | "namespace" | "adminPort" | "inboundPort" | "controlPlaneUrl" | "otlpEndpoint" | "log"> & { controlPlaneUrl?: string }, spans?: FinishedSpan[]): Promise<Sidecar> {
  const started = await startSidecar({
    mode: "sidecar",
    namespace: "default",
    adminPort: 0,
    inboundPort: 0,
    controlPlaneUrl,
    otlpEndpoint: otlp.url,
    log: quiet,
    onSpanEnd: spans ? (span) => spans.push(span) : undefined,
    ...options,
  });
  running.push(started);
  return started;
}

const adminUrl = (s: Sidecar) => `http://127.0.0.1:${s.ports.admin}`;
const configDump = (s: Sidecar) => getJson<ConfigDump>(`${adminUrl(s)}/config_dump`);
const endpointsOf = (dump: ConfigDump, cluster: string) => dump.snapshot?.clusters[cluster]?.endpoints.map((e) => e.workloadId).sort() ?? [];
const listSidecars = () => getJson<SidecarRow[]>(`${controlPlaneUrl}/v1/sidecars`);

beforeAll(async () => {
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet });
  controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
  otlp = await startOtlpReceiver();
  frontendApp = await startApp("frontend");
  catalogApp = await startApp("catalog-v1");
  apps.push(frontendApp, catalogApp);
  frontend = await sidecar(
    {
      service: "frontend",
      version: "v1",
      workload: "frontend-v1-0",
      appPort: frontendApp.port,
      upstreams: [
        { service: "catalog-service", port: 0 },
        { service: "order-service", port: 0 },
      ],
    },
    frontendSpans,
  );
  catalog = await sidecar({ service: "catalog-service", version: "v1", workload: "catalog-v1-0", appPort: catalogApp.port, upstreams: [] }, catalogSpans);
  await waitFor("frontend to see catalog", () => configDump(frontend), (dump) => endpointsOf(dump, "catalog-service").includes("catalog-v1-0"));
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await controlPlane?.stop();
  await Promise.all(apps.map((app) => app.close()));
  await otlp?.close();
  await testDb?.drop();
});

describe("mesh data path", () => {
  it("carries requests app → outbound → peer inbound → app over kept-alive connections, streaming the body", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const outbound = frontend.ports.upstreams["catalog-service"] ?? 0;
    const connectionsBefore = catalogApp.connections();
    const responses: Response[] = [];
    for (const i of [1, 2, 3]) {
      responses.push(await request(outbound, { path: `/items/${i}?q=x`, method: "POST", body: `payload-${i}`, headers: { "content-type": "text/plain", connection: "keep-alive" }, agent }));
    }
    agent.destroy();
    expect(responses.map((r) => [r.status, JSON.parse(r.body) as unknown])).toEqual([1, 2, 3].map((i) => [200, { app: "catalog-v1", body: `payload-${i}` }]));
    expect(responses.map((r) => r.reusedSocket)).toEqual([false, true, true]);
    expect(responses[0]?.headers["x-trellis-response-flags"]).toBeUndefined();
    // Both proxy hops reuse their connections: the app saw at most one new one for three requests.
    expect(catalogApp.connections() - connectionsBefore).toBeLessThanOrEqual(1);
    const last = catalogApp.seen.at(-1);
    expect(last?.url).toBe("/items/3?q=x");
    expect(last?.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(last?.headers["x-forwarded-for"]).toBe("127.0.0.1, 127.0.0.1");
  });

  it("keeps a caller's x-request-id", async () => {
    await request(frontend.ports.upstreams["catalog-service"] ?? 0, { headers: { "x-request-id": "req-123" } });
    expect(catalogApp.seen.at(-1)?.headers["x-request-id"]).toBe("req-123");
  });

  it("continues the caller's trace: client span in A, server span in B, and B's app sees B's server span as parent", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const appSpanId = "00f067aa0ba902b7";
    const response = await request(frontend.ports.upstreams["catalog-service"] ?? 0, { path: "/traced", headers: { traceparent: `00-${traceId}-${appSpanId}-01` } });
    expect(response.status).toBe(200);
    const seen = parseTraceparent(catalogApp.seen.at(-1)?.headers.traceparent);
    expect(seen.traceId).toBe(traceId);

    const client = await waitFor("A's client span", () => frontendSpans.find((s) => s.traceId === traceId), (s) => s !== undefined);
    const server = await waitFor("B's server span", () => catalogSpans.find((s) => s.traceId === traceId), (s) => s !== undefined);
    if (!client || !server) return;
    expect(client.parentSpanId).toBe(appSpanId);
    expect(client.kind).toBe("client");
    expect(client.attributes).toMatchObject({ "http.request.method": "GET", "url.path": "/traced", "http.response.status_code": 200, "trellis.upstream_service": "catalog-service", "server.address": "127.0.0.1" });
    expect(server.parentSpanId).toBe(client.spanId);
    expect(server.kind).toBe("server");
    expect(seen.parentId).toBe(server.spanId);
    // The exported span carries the sidecar's identity as its resource.
    const exported = await waitFor("B's server span over OTLP", () => otlp.spans.find((s) => s.spanId === server.spanId), (s) => s !== undefined);
    expect(exported?.resourceAttributes).toMatchObject({ "service.name": "catalog-service", "service.namespace": "default", "service.version": "v1", "service.instance.id": "catalog-v1-0" });
  });

  it("starts a new trace when the app sends none", async () => {
    const before = catalogApp.seen.length;
    await request(frontend.ports.upstreams["catalog-service"] ?? 0, { path: "/untraced" });
    const seen = parseTraceparent(catalogApp.seen[before]?.headers.traceparent);
    const client = await waitFor("the client span", () => frontendSpans.find((s) => s.traceId === seen.traceId), (s) => s !== undefined);
    expect(client?.parentSpanId).toBeNull();
  });

  it("exports spans as OTLP protobuf to /v1/traces", async () => {
    const received = await waitFor("an OTLP export", () => otlp.requests.filter((r) => r.path === "/v1/traces"), (list) => list.length > 0);
    expect(received[0]).toMatchObject({ contentType: "application/x-protobuf" });
    expect(received[0]?.bytes).toBeGreaterThan(0);
  });

  it("answers 503 UH for an upstream with no endpoints, and marks the client span as an error", async () => {
    const response = await request(frontend.ports.upstreams["order-service"] ?? 0, { path: "/orders" });
    expect(response.status).toBe(503);
    expect(response.headers["x-trellis-response-flags"]).toBe("UH");
    expect(response.body).toContain('cluster "order-service" has no endpoints');
    const span = await waitFor("the UH span", () => frontendSpans.find((s) => s.attributes["url.path"] === "/orders"), (s) => s !== undefined);
    expect(span?.attributes["trellis.response_flags"]).toBe("UH");
    expect(span?.statusCode).toBe(2); // ERROR
  });

  it("answers 503 UF when the app behind a sidecar is down", async () => {
    const deadApp = await startApp("dead");
    await deadApp.close();
    const lonely = await sidecar({ service: "inventory", version: "v1", workload: "inventory-v1-0", appPort: deadApp.port, upstreams: [] });
    const response = await request(lonely.ports.inbound ?? 0, { path: "/stock" });
    expect(response.status).toBe(503);
    expect(response.headers["x-trellis-response-flags"]).toBe("UF");
  });

  it("answers 404 NR and is not ready while it has no config", async () => {
    const unreachable = await sidecar({ service: "orphan", version: "v1", workload: "orphan-v1-0", appPort: 1, upstreams: [{ service: "catalog-service", port: 0 }], controlPlaneUrl: "http://127.0.0.1:1" });
    const response = await request(unreachable.ports.upstreams["catalog-service"] ?? 0);
    expect(response.status).toBe(404);
    expect(response.headers["x-trellis-response-flags"]).toBe("NR");
    const ready = await fetch(`${adminUrl(unreachable)}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toContain("no config received from the control plane at http://127.0.0.1:1");
    await unreachable.stop();
  });
});

describe("registration and config versions", () => {
  it("shows every sidecar registered and ACKed at the version it runs", async () => {
    const rows = await waitFor("ACKs", listSidecars, (list) => ["frontend-v1-0", "catalog-v1-0"].every((id) => list.find((s) => s.id === id)?.acked === true));
    for (const s of [frontend, catalog]) {
      const dump = await configDump(s);
      expect(rows.find((row) => row.id === s.node.id)).toMatchObject({ connected: true, acked: true, configVersion: dump.version });
    }
    expect((await fetch(`${adminUrl(frontend)}/ready`)).status).toBe(200);
  });

  it("dumps the snapshot in force: with no policies, one default route and one whole-service cluster per upstream", async () => {
    const { snapshot } = await configDump(frontend);
    const defaultRoute = (upstream: string) => ({ upstream, routes: [{ match: [], destinations: [{ cluster: upstream, weight: 100 }] }] });
    expect(snapshot?.virtualHosts).toEqual([defaultRoute("catalog-service"), defaultRoute("order-service")]);
    expect(snapshot?.clusters["catalog-service"]).toMatchObject({ service: "catalog-service", subset: null, trafficPolicy: { loadBalancer: "ROUND_ROBIN" } });
  });

  it("pushes a new version to the caller when another instance of its upstream registers, and balances over both", async () => {
    const before = await configDump(frontend);
    const v2App = await startApp("catalog-v2");
    apps.push(v2App);
    await sidecar({ service: "catalog-service", version: "v2", workload: "catalog-v2-0", appPort: v2App.port, upstreams: [] });
    const after = await waitFor("the new endpoint", () => configDump(frontend), (dump) => endpointsOf(dump, "catalog-service").length === 2);
    expect(after.version ?? 0).toBeGreaterThan(before.version ?? 0);
    expect(endpointsOf(after, "catalog-service")).toEqual(["catalog-v1-0", "catalog-v2-0"]);
    await waitFor("the caller's ACK", listSidecars, (list) => list.find((s) => s.id === "frontend-v1-0")?.configVersion === after.version);

    const answered = new Set<string>();
    for (let i = 0; i < 4; i += 1) {
      const response = await request(frontend.ports.upstreams["catalog-service"] ?? 0);
      answered.add(String(response.headers["x-app"]));
    }
    expect([...answered].sort()).toEqual(["catalog-v1", "catalog-v2"]);
  });

  it("keeps serving on the last config while the control plane restarts, then reconnects and ACKs a newer version", async () => {
    const before = await configDump(frontend);
    await controlPlane.stop();
    const during = await request(frontend.ports.upstreams["catalog-service"] ?? 0, { path: "/during-restart" });
    expect(during.status).toBe(200);
    controlPlane = await startControlPlane({ db: testDb.db, port: controlPlane.port, log: quiet });
    const rows = await waitFor("reconnection", listSidecars, (list) => {
      const row = list.find((s) => s.id === "frontend-v1-0");
      return row !== undefined && row.connected && row.acked && (row.configVersion ?? 0) > (before.version ?? 0);
    });
    const after = await configDump(frontend);
    expect(rows.find((s) => s.id === "frontend-v1-0")?.configVersion).toBe(after.version);
    expect(endpointsOf(after, "catalog-service")).toEqual(["catalog-v1-0", "catalog-v2-0"]);
  });
});

describe("gateway", () => {
  it("routes every request to its target service with a server span and a child client span", async () => {
    const gatewaySpans: FinishedSpan[] = [];
    const gateway = await startSidecar({
      mode: "gateway",
      service: "ingress",
      namespace: "default",
      version: "v1",
      workload: "ingress-0",
      adminPort: 0,
      gatewayHost: "127.0.0.1",
      gatewayPort: 0,
      route: "frontend",
      controlPlaneUrl,
      otlpEndpoint: otlp.url,
      log: quiet,
      onSpanEnd: (span) => gatewaySpans.push(span),
    });
    running.push(gateway);
    await waitFor("the gateway's config", () => configDump(gateway), (dump) => endpointsOf(dump, "frontend").includes("frontend-v1-0"));
    const response = await request(gateway.ports.gateway ?? 0, { path: "/shop" });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ app: "frontend" });

    const spans = await waitFor("gateway spans", () => gatewaySpans, (list) => list.length >= 2);
    const server = spans.find((s) => s.kind === "server");
    const client = spans.find((s) => s.kind === "client");
    expect(server?.attributes).toMatchObject({ "url.path": "/shop", "http.response.status_code": 200 });
    expect(client?.parentSpanId).toBe(server?.spanId);
    expect(client?.attributes["trellis.upstream_service"]).toBe("frontend");
    // The gateway itself is no endpoint: frontend's callers never see it in a cluster.
    expect(endpointsOf(await configDump(frontend), "catalog-service")).not.toContain("ingress-0");
  });
});
