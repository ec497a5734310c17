// How fast ingest turns OTLP/protobuf bodies into records (decodeTraceRequest / decodeLogsRequest /
// decodeMetricsRequest of @trellis/otlp), on one core, for batches as real senders make them: the bytes come from
// the official @opentelemetry/otlp-transformer serializers (what the SDK exporters send), the spans and log records
// from the real SDK, the metrics from the sidecar's own Istio metric store. Rates are per second of CPU time, so a
// busy machine slows the run but not the figures much.
// Run alone: node bench/ingest/decode.mjs   (the ingest benchmark imports benchDecode from here)
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";

const BATCH = 512;
const SPANS_PER_TRACE = 8;
const DISTINCT_BATCHES = 16;
const WARMUP_MS = 700;
const MEASURE_MS = 2_500;
const START_MS = Date.UTC(2026, 0, 1, 12);

/** The workspace's TypeScript modules, loaded through tsx so this file also runs under plain node. */
function loadTs(path) {
  return tsImport(new URL(path, import.meta.url).href, import.meta.url);
}

/** A pod's resource as Kubernetes-deployed SDKs describe it: eight attributes. */
function makeResource(service) {
  return resourceFromAttributes({
    "service.name": service,
    "service.namespace": "bookinfo",
    "service.version": "v2",
    "service.instance.id": `${service}-v2-7d79d5bd5d-tdkw9`,
    "host.name": "gke-prod-pool-1-3f9a2c1e-x7kq",
    "k8s.pod.name": `${service}-v2-7d79d5bd5d-tdkw9`,
    "k8s.namespace.name": "bookinfo",
    "telemetry.sdk.language": "nodejs",
  });
}

const PATHS = ["/api/v1/products", "/api/v1/products/{id}/reviews", "/api/v1/ratings/{id}", "/details/{id}", "/productpage", "/healthz"];
const PEERS = ["reviews", "ratings", "details", "productpage"];

/**
 * 512 server and client spans with HTTP, network and Istio-proxy attributes (15–17 each), in traces of 8 spans
 * (a request entering a service, its call to the next one, that one's server span, …), as a call chain through four
 * services makes them.
 * Batch `b` differs from the others where real traffic does (request ids, peer addresses, times); spans start at
 * `startMs` (the ingest benchmark stamps them now, inside the stored range).
 */
export function makeTraceBatch(b, startMs = START_MS) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: makeResource("reviews"), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer("@opentelemetry/instrumentation-http", "0.57.2");
  let parent = null;
  for (let n = 0; n < BATCH; n += 1) {
    const i = b * BATCH + n;
    const server = i % 2 === 0;
    const peer = PEERS[i % PEERS.length];
    const route = PATHS[i % PATHS.length];
    const status = i % 23 === 0 ? 503 : i % 11 === 0 ? 404 : 200;
    const spanStartMs = startMs + i * 3;
    const span = tracer.startSpan(
      `${i % 5 === 0 ? "POST" : "GET"} ${route}`,
      {
        kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
        startTime: spanStartMs,
        attributes: {
          "http.request.method": i % 5 === 0 ? "POST" : "GET",
          "url.path": route.replace("{id}", String(1000 + (i % 97))),
          "url.scheme": "http",
          "http.route": route,
          "http.response.status_code": status,
          "server.address": `${peer}.bookinfo.svc.cluster.local`,
          "server.port": 9080,
          "network.peer.address": `10.${4 + b}.${i % 16}.${(i * 7) % 250}`,
          "network.protocol.version": "1.1",
          "user_agent.original": "Go-http-client/1.1",
          "http.request.body.size": i % 5 === 0 ? 512 + i : 0,
          "http.response.body.size": 1024 + ((i * 37) % 4096),
          upstream_cluster: `outbound|9080|v${1 + (i % 3)}|${peer}.bookinfo.svc.cluster.local`,
          "istio.canonical_service": peer,
          node_id: `sidecar~10.4.${i % 16}.17~${peer}-v1-6c5f8d7b9-abcde.bookinfo~bookinfo.svc.cluster.local`,
          "guid:x-request-id": `7c9e6679-7425-40de-944b-${String(i).padStart(12, "0")}`,
          response_flags: status === 503 ? "UF,URX" : "-",
        },
      },
      i % SPANS_PER_TRACE === 0 ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, parent),
    );
    if (status === 503) {
      span.addEvent("exception", { "exception.type": "UpstreamConnectError", "exception.message": "upstream connect error or disconnect/reset before headers" }, spanStartMs + 1);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(spanStartMs + 2 + (i % 40));
    parent = span;
  }
  const spans = exporter.getFinishedSpans();
  return { body: ProtobufTraceSerializer.serializeRequest(spans), count: spans.length };
}

/** 512 access-log records exactly as the sidecar emits them (Istio's TEXT line as body, its JSON fields as attributes). */
function makeLogsBatch({ formatRequestLine, buildRequestAttributes, severityOf }, makeBenchRecord, b) {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: makeResource("productpage"), processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger("@trellis/sidecar/access-log");
  for (let n = 0; n < BATCH; n += 1) {
    const i = b * BATCH + n;
    const record = { ...makeBenchRecord(i), startTimeMs: START_MS + i };
    const context = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: `4bf92f3577b34da6a3ce929d${String(i).padStart(8, "0")}`,
      spanId: `00f067aa${String(i).padStart(8, "0")}`,
      traceFlags: TraceFlags.SAMPLED,
    });
    logger.emit({ timestamp: record.startTimeMs, ...severityOf(record.status), body: formatRequestLine(record), attributes: buildRequestAttributes(record), context });
  }
  const logs = memory.getFinishedLogRecords();
  return { body: ProtobufLogsSerializer.serializeRequest(logs), count: logs.length };
}

/**
 * One sidecar's metric export: 128 Istio request series (4 source versions × 4 destinations × 2 destination
 * versions × 4 response codes) → istio_requests_total and three histograms with Istio's 19 buckets: 512 points.
 */
function makeMetricsBatch({ createMetricStore }, { collectMetrics }, makeBenchRecord, b) {
  const store = createMetricStore(() => START_MS + b);
  for (let i = 0; i < 128 * 20; i += 1) {
    const series = i % 128;
    const destination = PEERS[series % 4];
    const version = `v${1 + ((series >> 2) % 2)}`;
    const status = [200, 404, 503, 0][(series >> 3) % 4];
    const sourceVersion = `v${1 + (series >> 5)}`;
    store.recordRequest({
      ...makeBenchRecord(i),
      status: status === 0 ? null : status,
      flags: status === 503 ? ["UF"] : status === 0 ? ["DC"] : [],
      durationMs: (i * 7.3) % 900,
      source: { workload: `productpage-${sourceVersion}`, app: "productpage", version: sourceVersion, namespace: "bookinfo" },
      destination: { workload: `${destination}-${version}`, app: destination, version, namespace: "bookinfo" },
      destinationService: destination,
    });
  }
  const metrics = collectMetrics(store, START_MS + 10_000 * (b + 1));
  const resourceMetrics = { resource: makeResource("productpage"), scopeMetrics: [{ scope: { name: "@trellis/sidecar/istio" }, metrics }] };
  const count = metrics.reduce((sum, metric) => sum + metric.dataPoints.length, 0);
  return { body: ProtobufMetricsSerializer.serializeRequest(resourceMetrics), count };
}

/**
 * Records per CPU-second of `decode(body)` over `batches` taken in turn (distinct batches, so what varies per
 * request in real traffic is not served from any cache), after a warm-up; `decode` returns how many records it made.
 */
function measure(decode, batches) {
  for (const batch of batches) {
    const produced = decode(batch.body);
    if (produced !== batch.count) throw new Error(`decoded ${produced} records of ${batch.count}: the benchmark batch is wrong`);
  }
  let next = 0;
  const decodeNext = () => {
    decode(batches[next].body);
    next = (next + 1) % batches.length;
  };
  for (const until = performance.now() + WARMUP_MS; performance.now() < until; ) decodeNext();
  const cpu = process.cpuUsage();
  let rounds = 0;
  for (const until = performance.now() + MEASURE_MS; performance.now() < until; rounds += 1) decodeNext();
  const used = process.cpuUsage(cpu);
  const seconds = (used.user + used.system) / 1e6;
  const [{ body, count }] = batches;
  return { perSecond: Math.round((rounds * count) / seconds), bytesPer: Math.round(body.length / count), batchBytes: body.length, records: count };
}

/**
 * Decode rates of the three signals' protobuf bodies. `log` receives one line per signal as it finishes.
 * @param {{ log: (line: string) => void }} options
 */
export async function benchDecode({ log }) {
  const [otlp, accessLog, metricStore, metricProducer, { makeBenchRecord }] = await Promise.all([
    loadTs("../../packages/otlp/src/index.ts"),
    loadTs("../../apps/sidecar/src/telemetry/access-log.ts"),
    loadTs("../../apps/sidecar/src/telemetry/metric-store.ts"),
    loadTs("../../apps/sidecar/src/telemetry/metric-producer.ts"),
    loadTs("../sidecar-telemetry/bench-record.ts"),
  ]);
  const line = (name, m, unit) =>
    log(`${name.padEnd(8)} ${String(m.perSecond).padStart(9)} ${unit}/s   ${String(m.bytesPer).padStart(5)} bytes/${unit}   (${m.records} per ${m.batchBytes}-byte batch, ${DISTINCT_BATCHES} distinct batches)`);

  const batches = (make) => Array.from({ length: DISTINCT_BATCHES }, (_, b) => make(b));
  const spans = measure((body) => otlp.decodeTraceRequest(body, "protobuf").spans.length, batches(makeTraceBatch));
  line("traces", spans, "span");
  const logs = measure((body) => otlp.decodeLogsRequest(body, "protobuf").logs.length, batches((b) => makeLogsBatch(accessLog, makeBenchRecord, b)));
  line("logs", logs, "record");
  const points = measure(
    (body) => otlp.decodeMetricsRequest(body, "protobuf").points.length,
    batches((b) => makeMetricsBatch(metricStore, metricProducer, makeBenchRecord, b)),
  );
  line("metrics", points, "point");

  return {
    spansPerSecond: spans.perSecond,
    bytesPerSpan: spans.bytesPer,
    logRecordsPerSecond: logs.perSecond,
    bytesPerLogRecord: logs.bytesPer,
    dataPointsPerSecond: points.perSecond,
    bytesPerDataPoint: points.bytesPer,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(`OTLP/protobuf decode, one core (CPU time), node ${process.version}`);
  await benchDecode({ log: (text) => console.log(text) });
}
