// The sidecar's OTLP/HTTP export against a real loopback receiver: what the span, access-log and metrics pipelines
// POST decodes with @trellis/otlp (with the ingest token, over one kept-alive connection), metrics as the SDK's
// OTLPMetricExporter sent them before, and every way a POST can fail (error status, refused connection, no answer in
// time) is reported as a failure, which export-queue.ts / metrics-export.ts count.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { decodeLogsRequest, decodeMetricsRequest, decodeTraceRequest, encodeResource, encodeScope, startTraceBatch } from "@trellis/otlp";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAccessLog } from "./log-export.ts";
import { createMetricStore } from "./metric-store.ts";
import { createMetricsExport } from "./metrics-export.ts";
import { createOtlpPoster } from "./otlp-exporters.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";
import { collectSdkResourceMetrics } from "./testing-sdk-metrics.ts";
import { createSpanExport, HttpSpan, SPAN_BATCH_SIZE, TRACER_NAME, writeSpan } from "./traces.ts";

const resource = encodeResource({ "service.name": "checkout", "service.namespace": "shop" });

type Receiver = { url: string; bodies: { path: string; contentType: string; authorization: string | undefined; body: Uint8Array }[]; connections: () => number; close: () => Promise<void> };

async function startReceiver(answer: (res: http.ServerResponse) => void): Promise<Receiver> {
  const bodies: Receiver["bodies"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      bodies.push({ path: req.url ?? "", contentType: String(req.headers["content-type"]), authorization: req.headers.authorization, body: new Uint8Array(Buffer.concat(chunks)) });
      answer(res);
    });
  });
  let connections = 0;
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    connections: () => connections,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

function makeSpanBatch(): Uint8Array {
  const batch = startTraceBatch({ resource, scope: encodeScope(TRACER_NAME) }, 1024);
  for (let i = 0; i < 3; i += 1) {
    const span = new HttpSpan({ kind: "client", method: "GET", path: `/cart/${i}`, serverAddress: "cart", parent: null }, 1);
    span.end({ status: 200, flag: null });
    writeSpan(batch, span);
  }
  return batch.seal();
}

function postOnce(poster: ReturnType<typeof createOtlpPoster>, body: Uint8Array): Promise<Error | null> {
  return new Promise((resolve) => poster.post(body, resolve));
}

function postReleasing(poster: ReturnType<typeof createOtlpPoster>, body: Uint8Array): Promise<{ error: Error | null; released: boolean }> {
  return new Promise((resolve) => poster.post(body, (error, released) => resolve({ error, released })));
}

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe("span export", () => {
  it("POSTs protobuf to /v1/traces that decodes to the ended spans, on one kept-alive connection, with the ingest token", async () => {
    const receiver = await startReceiver((res) => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
    receivers.push(receiver);
    const spans = createSpanExport({ resource, otlpEndpoint: receiver.url, otlpHeaders: { authorization: "Bearer s3cret" }, samplingRatio: 1, onDrop: () => {} });
    const ended = Array.from({ length: SPAN_BATCH_SIZE + 3 }, (_, i) => {
      const span = spans.start({ kind: "client", method: "GET", path: `/cart/${i}`, serverAddress: "cart", parent: null });
      spans.end(span, { status: 200, flag: null });
      return span;
    });
    // An unsampled span is not exported.
    const unsampled = spans.start({ kind: "client", method: "GET", path: "/quiet", serverAddress: "cart", parent: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: false, traceState: undefined, remote: true } });
    spans.end(unsampled, { status: 200, flag: null });
    await spans.shutdown();
    expect(receiver.connections()).toBe(1);
    expect(receiver.bodies.map((b) => [b.path, b.contentType, b.authorization])).toEqual([
      ["/v1/traces", "application/x-protobuf", "Bearer s3cret"],
      ["/v1/traces", "application/x-protobuf", "Bearer s3cret"],
    ]);
    const decoded = receiver.bodies.flatMap((b) => decodeTraceRequest(b.body, "protobuf").spans);
    expect(decoded.map((s) => [s.serviceName, s.scopeName, s.name, s.attributes["url.path"], s.spanId])).toEqual(ended.map((s) => ["checkout", TRACER_NAME, "GET", s.path, s.spanId]));
  });
});

describe("createOtlpPoster", () => {
  it("tries a batch again when the collector pushes back (503 with Retry-After), and succeeds once it takes it", async () => {
    let answered = 0;
    const receiver = await startReceiver((res) => {
      answered += 1;
      if (answered === 1) res.writeHead(503, { "retry-after": "0" }).end("overloaded");
      else res.writeHead(200).end();
    });
    receivers.push(receiver);
    const poster = createOtlpPoster({ url: `${receiver.url}/v1/traces` });
    // Taken, and written out in full: the caller may reuse the body's memory.
    expect(await postReleasing(poster, makeSpanBatch())).toEqual({ error: null, released: true });
    expect(receiver.bodies).toHaveLength(2);
    expect(decodeTraceRequest(receiver.bodies[1]?.body ?? new Uint8Array(), "protobuf")).toEqual(decodeTraceRequest(receiver.bodies[0]?.body ?? new Uint8Array(), "protobuf"));
    await poster.shutdown();
  });

  it("does not retry an answer that will not change (400)", async () => {
    const receiver = await startReceiver((res) => res.writeHead(400).end("bad batch"));
    receivers.push(receiver);
    const poster = createOtlpPoster({ url: `${receiver.url}/v1/traces` });
    const { error, released } = await postReleasing(poster, makeSpanBatch());
    expect(error?.message).toContain("answered 400");
    expect(released).toBe(false);
    expect(receiver.bodies).toHaveLength(1);
    await poster.shutdown();
  });

  it("reports a failure for an error status, a refused connection and a collector that never answers", async () => {
    const failing = await startReceiver((res) => res.writeHead(503).end("overloaded"));
    const silent = await startReceiver(() => {});
    receivers.push(failing, silent);
    const refusedPort = await startReceiver((res) => res.end()).then(async (r) => (await r.close(), r.url));
    for (const [url, timeoutMs] of [
      [failing.url, 10_000],
      [refusedPort, 10_000],
      [silent.url, 200],
    ] as const) {
      const poster = createOtlpPoster({ url: `${url}/v1/traces`, timeoutMs });
      const error = await postOnce(poster, makeSpanBatch());
      expect(error?.message).toBeTruthy();
      await poster.shutdown();
    }
  });
});

describe("access-log export", () => {
  it("POSTs protobuf to /v1/logs that decodes to the records with their trace context", async () => {
    const receiver = await startReceiver((res) => res.writeHead(200).end());
    receivers.push(receiver);
    const accessLog = createAccessLog({ resource, otlpEndpoint: receiver.url, otlpHeaders: {}, onDrop: () => {} });
    const spanContext = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true, traceState: undefined, remote: false };
    accessLog.recordRequest(makeRequestRecord({ spanContext }));
    await accessLog.shutdown();
    const decoded = decodeLogsRequest(receiver.bodies[0]?.body ?? new Uint8Array(), "protobuf");
    expect(receiver.bodies.map((b) => b.path)).toEqual(["/v1/logs"]);
    expect(decoded.logs).toEqual([
      expect.objectContaining({
        serviceName: "checkout",
        scopeName: "@trellis/sidecar/access-log",
        body: expect.stringContaining('"GET /cart/42?coupon=x HTTP/1.1" 200'),
        attributes: expect.objectContaining({ response_code: 200, request_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7" }),
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
      }),
    ]);
  });
});

describe("metrics export", () => {
  const resourceAttributes = { "service.name": "checkout", "service.namespace": "shop", "service.instance.id": "checkout-v1-0" };
  const NOW_MS = 1767225610456;

  function fillStore() {
    const store = createMetricStore(() => 1767225600123);
    store.recordRequest(makeRequestRecord({ durationMs: 3 }));
    store.recordRequest(makeRequestRecord({ reporter: "destination", status: 503, flags: ["UF", "URX"], requestBytes: 2 ** 33 }));
    store.recordTcp(makeTcpRecord({ sentBytes: 2 ** 40 }));
    store.recordClusterEvent("cart", "retry");
    store.countDropped("spans", "queue_full", 4);
    return store;
  }

  function startExport(store: ReturnType<typeof createMetricStore>, url: string, intervalMs: number) {
    return createMetricsExport({
      resource: encodeResource(resourceAttributes),
      resourceAttributes,
      otlpEndpoint: url,
      otlpHeaders: { authorization: "Bearer s3cret" },
      intervalMs,
      store,
      now: () => NOW_MS,
    });
  }

  it("pushes every interval to /v1/metrics with the ingest token, decoding to what the SDK's OTLPMetricExporter sent", async () => {
    const receiver = await startReceiver((res) => res.writeHead(200).end());
    receivers.push(receiver);
    const store = fillStore();
    const metrics = startExport(store, receiver.url, 40);
    await vi.waitFor(() => expect(receiver.bodies.length).toBeGreaterThanOrEqual(2), { timeout: 2_000, interval: 10 });
    await metrics.shutdown();
    expect(receiver.bodies[0]).toMatchObject({ path: "/v1/metrics", contentType: "application/x-protobuf", authorization: "Bearer s3cret" });
    expect(receiver.connections()).toBe(1);

    const sdkExporter = new OTLPMetricExporter({ url: `${receiver.url}/v1/metrics` });
    const exported = await new Promise<number>((resolve) => sdkExporter.export(collectSdkResourceMetrics(store, NOW_MS, resourceAttributes), (result) => resolve(result.code)));
    await sdkExporter.shutdown();
    expect(exported).toBe(0);
    const [ours, sdk] = [receiver.bodies[0], receiver.bodies.at(-1)].map((b) => decodeMetricsRequest(b?.body ?? new Uint8Array(), "protobuf"));
    // Two request series (a counter and three histograms each), one TCP series (four counters), an event, a drop.
    expect(ours?.points).toHaveLength(14);
    expect(ours).toEqual(sdk);
    expect(ours?.points.find((p) => p.name === "istio_tcp_sent_bytes_total")).toMatchObject({ value: 2 ** 40, startTimeUnixNano: 1767225600123000000n, timeUnixNano: BigInt(NOW_MS) * 1_000_000n });
  });

  it("counts a push the collector did not take as a dropped metrics export, and sends nothing while there is nothing to send", async () => {
    const receiver = await startReceiver((res) => res.writeHead(400).end("no"));
    receivers.push(receiver);
    const empty = createMetricStore();
    const idle = startExport(empty, receiver.url, 20);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await idle.shutdown();
    expect(receiver.bodies).toHaveLength(0);

    const store = fillStore();
    const metrics = startExport(store, receiver.url, 60_000);
    await metrics.shutdown();
    expect(receiver.bodies.map((b) => b.path)).toEqual(["/v1/metrics"]);
    expect(store.dropped().get("metrics|export_failed")).toBe(1);
  });

  it("pushes once more on shutdown, after the push in flight, with the totals counted since", async () => {
    const answers: (() => void)[] = [];
    const receiver = await startReceiver((res) => answers.push(() => res.writeHead(200).end()));
    receivers.push(receiver);
    const store = fillStore();
    // The push times out at the interval (as the SDK's reader did), so the interval outlasts the wait below.
    const metrics = startExport(store, receiver.url, 300);
    await vi.waitFor(() => expect(answers).toHaveLength(1), { timeout: 2_000, interval: 5 });
    store.recordRequest(makeRequestRecord({ durationMs: 3 }));
    const shutdown = metrics.shutdown();
    // The final push waits for the one in flight.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.bodies).toHaveLength(1);
    answers[0]?.();
    await vi.waitFor(() => expect(answers).toHaveLength(2), { timeout: 2_000, interval: 5 });
    answers[1]?.();
    await shutdown;
    const requests = receiver.bodies.map((b) => decodeMetricsRequest(b.body, "protobuf").points.find((p) => p.name === "istio_requests_total" && p.attributes.reporter === "source")?.value);
    expect(requests).toEqual([1, 2]);
  });
});
