// Telemetry end to end: two real sidecars (caller → callee) with the real control plane on a real Postgres, plain
// apps behind them, and a loopback OTLP/HTTP receiver that decodes what arrives with @trellis/otlp — spans, Istio
// metrics and access-log records, from both reporters — plus the admin port's /stats and /stats/prometheus.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { decodeLogsRequest, decodeMetricsRequest, decodeTraceRequest, type LogEntry, type MetricPointRecord, type SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import { ISTIO_BUCKETS } from "./metric-store.ts";
import { quiet, waitFor } from "../testing/mesh-test-kit.ts";


type Received = { spans: SpanRecord[]; points: MetricPointRecord[]; logs: LogEntry[]; contentTypes: Set<string> };

/** An OTLP/HTTP receiver on loopback that decodes every body as ingest will. */
async function startReceiver(): Promise<{ url: string; received: Received; close: () => Promise<void> }> {
  const received: Received = { spans: [], points: [], logs: [], contentTypes: new Set() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const format = String(req.headers["content-type"]).includes("json") ? "json" : "protobuf";
      received.contentTypes.add(`${req.url} ${String(req.headers["content-type"])}`);
      if (req.url === "/v1/traces") received.spans.push(...decodeTraceRequest(body, format).spans);
      if (req.url === "/v1/metrics") received.points.push(...decodeMetricsRequest(body, format).points);
      if (req.url === "/v1/logs") received.logs.push(...decodeLogsRequest(body, format).logs);
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

type App = { port: number; requestIds: string[]; close: () => Promise<void> };

async function startApp(): Promise<App> {
  const requestIds: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requestIds.push(String(req.headers["x-request-id"]));
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("hello from the callee");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requestIds,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}


/** Cumulative points: the latest one per series (same service, metric and labels) is the current total. */
function latestPoints(points: readonly MetricPointRecord[], name: string, serviceName: string): MetricPointRecord[] {
  const latest = new Map<string, MetricPointRecord>();
  for (const point of points) {
    if (point.name !== name || point.serviceName !== serviceName) continue;
    const key = JSON.stringify(point.attributes);
    const seen = latest.get(key);
    if (seen === undefined || seen.timeUnixNano < point.timeUnixNano) latest.set(key, point);
  }
  return [...latest.values()];
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const REQUESTS = 3;

let testDb: TestDatabase;
let controlPlane: ControlPlane;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let callerApp: App;
let calleeApp: App;
let caller: Sidecar;
let callee: Sidecar;

beforeAll(async () => {
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet });
  const controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
  receiver = await startReceiver();
  callerApp = await startApp();
  calleeApp = await startApp();
  const common = { mode: "sidecar", namespace: "shop", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: receiver.url, log: quiet } as const;
  const telemetry = { metricsExportIntervalMs: 200, traceSampling: 1, accessLog: true };
  caller = await startSidecar({ ...common, service: "checkout", version: "v1", workload: "checkout-v1-0", appPort: callerApp.port, upstreams: [{ service: "cart", port: 0 }], telemetry });
  callee = await startSidecar({ ...common, service: "cart", version: "v2", workload: "cart-v2-0", appPort: calleeApp.port, upstreams: [], telemetry });
  const outbound = caller.ports.upstreams.cart ?? 0;
  // Ready once the caller has the callee as an endpoint: a request goes all the way through.
  await waitFor("the caller to route to the callee", () => get(outbound, "/warm-up").catch(() => ({ status: 0, body: "" })), (r) => r.status === 200);
  for (let i = 0; i < REQUESTS; i += 1) {
    // The first request carries a B3 context: the whole hop must join that trace.
    const headers = i === 0 ? { "x-b3-traceid": TRACE_ID, "x-b3-spanid": "a3ce929d0e0e4736", "x-b3-sampled": "1", "user-agent": "telemetry-test" } : { "user-agent": "telemetry-test" };
    const response = await get(outbound, `/cart/${i}?coupon=x`, headers);
    expect(response.status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([caller, callee].map((s) => s?.stop()));
  await controlPlane?.stop();
  await Promise.all([callerApp, calleeApp].map((app) => app?.close()));
  await receiver?.close();
  await testDb?.drop();
});

describe("sidecar telemetry at ingest", () => {
  it("exports client and server spans in one trace, joining a B3 trace that came in", async () => {
    const spans = await waitFor(
      "client and server spans of the B3 trace",
      () => receiver.received.spans.filter((span) => span.traceId === TRACE_ID),
      (found) => found.some((s) => s.kind === 3 && s.serviceName === "checkout") && found.some((s) => s.kind === 2 && s.serviceName === "cart"),
    );
    const client = spans.find((s) => s.kind === 3 && s.serviceName === "checkout");
    const server = spans.find((s) => s.kind === 2 && s.serviceName === "cart");
    expect(client?.parentSpanId).toBe("a3ce929d0e0e4736");
    expect(server?.parentSpanId).toBe(client?.spanId);
    expect(server).toMatchObject({ httpStatusCode: 200, attributes: expect.objectContaining({ "http.request.method": "GET", "url.path": "/cart/0" }) });
    expect([...receiver.received.contentTypes]).toContain("/v1/traces application/x-protobuf");
  });

  it("exports istio_requests_total from both reporters with Istio's source and destination labels", async () => {
    const expected = {
      source_workload: "checkout-v1-0",
      source_workload_namespace: "shop",
      source_app: "checkout",
      source_version: "v1",
      destination_workload: "cart-v2-0",
      destination_app: "cart",
      destination_version: "v2",
      destination_service_name: "cart",
      request_protocol: "http",
      response_code: "200",
      response_flags: "-",
      connection_security_policy: "none",
    };
    // The warm-up request(s) count too; at least REQUESTS on each side, with the same count on both.
    const sourcePoints = await waitFor(
      "istio_requests_total reported by the caller",
      () => latestPoints(receiver.received.points, "istio_requests_total", "checkout").filter((p) => p.attributes.response_code === "200"),
      (points) => points.some((p) => (p.value ?? 0) >= REQUESTS + 1),
    );
    expect(sourcePoints).toHaveLength(1);
    expect(sourcePoints[0]).toMatchObject({ kind: "sum", monotonic: true, temporality: "cumulative", attributes: { ...expected, reporter: "source" } });
    const destinationPoints = await waitFor(
      "istio_requests_total reported by the callee",
      () => latestPoints(receiver.received.points, "istio_requests_total", "cart").filter((p) => p.attributes.response_code === "200"),
      (points) => points.some((p) => p.value === sourcePoints[0]?.value),
    );
    expect(destinationPoints[0]).toMatchObject({ attributes: { ...expected, reporter: "destination" } });

    const ok = (p: MetricPointRecord) => p.attributes.response_code === "200";
    // Points of one export share a time; read the histograms from the export the counter came from.
    const sameExport = (p: MetricPointRecord) => p.timeUnixNano === sourcePoints[0]?.timeUnixNano;
    const durations = latestPoints(receiver.received.points.filter(sameExport), "istio_request_duration_milliseconds", "checkout").filter(ok);
    expect(durations[0]).toMatchObject({ kind: "histogram", unit: "ms", bounds: ISTIO_BUCKETS, count: sourcePoints[0]?.value });
    expect(durations[0]?.bucketCounts.reduce((a, b) => a + b, 0)).toBe(sourcePoints[0]?.value);
    const responseBytes = latestPoints(receiver.received.points, "istio_response_bytes", "cart").filter(ok);
    expect(responseBytes[0]).toMatchObject({ kind: "histogram", sum: "hello from the callee".length * (responseBytes[0]?.count ?? -1) });
  });

  it("exports one access-log record per request per reporter, with the request's fields", async () => {
    const ids = calleeApp.requestIds.slice(-REQUESTS);
    expect(new Set(ids).size).toBe(REQUESTS);
    const logs = await waitFor(
      "access-log records of the requests from both sidecars",
      () => receiver.received.logs.filter((log) => ids.includes(String(log.attributes.request_id))),
      (found) => found.length >= 2 * REQUESTS,
    );
    expect(logs).toHaveLength(2 * REQUESTS);
    for (const id of ids) {
      const forId = logs.filter((log) => log.attributes.request_id === id);
      expect(forId.map((log) => log.attributes.reporter).sort()).toEqual(["destination", "source"]);
      expect(forId.map((log) => log.serviceName).sort()).toEqual(["cart", "checkout"]);
    }
    const first = logs.find((log) => log.attributes.request_id === ids[0] && log.attributes.reporter === "source");
    expect(first).toMatchObject({
      severityNumber: 9,
      attributes: expect.objectContaining({ method: "GET", path: "/cart/0?coupon=x", response_code: 200, response_flags: "-", user_agent: "telemetry-test", attempt_count: 1 }),
    });
    expect(first?.body).toMatch(new RegExp(`^\\[\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\] "GET /cart/0\\?coupon=x HTTP/1.1" 200 - .* "telemetry-test" "${ids[0] ?? ""}" `));

    // Each record links to the span its sidecar made for the request: the caller's CLIENT span, the callee's SERVER span.
    const spans = await waitFor(
      "the spans of the B3 trace",
      () => receiver.received.spans.filter((span) => span.traceId === TRACE_ID),
      (found) => found.some((s) => s.kind === 3 && s.serviceName === "checkout") && found.some((s) => s.kind === 2 && s.serviceName === "cart"),
    );
    const calleeRecord = logs.find((log) => log.attributes.request_id === ids[0] && log.attributes.reporter === "destination");
    expect(first).toMatchObject({ traceId: TRACE_ID, spanId: spans.find((s) => s.kind === 3 && s.serviceName === "checkout")?.spanId });
    expect(calleeRecord).toMatchObject({ traceId: TRACE_ID, spanId: spans.find((s) => s.kind === 2 && s.serviceName === "cart")?.spanId });
    expect([...receiver.received.contentTypes]).toContain("/v1/logs application/x-protobuf");
  });

  it("serves istio_requests_total at /stats/prometheus and Envoy-style counters at /stats", async () => {
    const prometheus = await get(caller.ports.admin, "/stats/prometheus");
    expect(prometheus.status).toBe(200);
    expect(prometheus.body).toContain("# TYPE istio_requests_total counter");
    expect(prometheus.body).toMatch(
      /istio_requests_total\{reporter="source",source_workload="checkout-v1-0",.*destination_workload="cart-v2-0",.*destination_service_name="cart",.*response_code="200",.*response_flags="-"\} \d+/,
    );
    expect(prometheus.body).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="0.5"\} \d+/);
    const inbound = await get(callee.ports.admin, "/stats/prometheus");
    expect(inbound.body).toMatch(/istio_requests_total\{reporter="destination",source_workload="checkout-v1-0",/);

    const stats = await get(caller.ports.admin, "/stats");
    expect(stats.body).toMatch(/^http\.outbound\.downstream_rq_2xx: \d+$/m);
    expect(stats.body).toMatch(/^telemetry\.spans\.dropped: 0$/m);
    // Envoy's memory gauges: the process' own figures, so only their order is known here.
    const gauge = (name: string) => Number(new RegExp(`^server\\.${name}: (\\d+)$`, "m").exec(stats.body)?.[1]);
    expect(gauge("memory_allocated")).toBeGreaterThan(1_000_000);
    expect(gauge("memory_heap_size")).toBeGreaterThanOrEqual(gauge("memory_allocated"));
    expect(gauge("memory_physical_size")).toBeGreaterThan(gauge("memory_heap_size"));
    const json = await get(caller.ports.admin, "/stats?format=json");
    expect(JSON.parse(json.body)).toMatchObject({ stats: expect.arrayContaining([expect.objectContaining({ name: "http.outbound.downstream_rq_total" })]) });
    expect((await get(caller.ports.admin, "/stats?format=xml")).status).toBe(400);
  });
});
