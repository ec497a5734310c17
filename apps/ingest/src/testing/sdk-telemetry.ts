// Telemetry made by the official OpenTelemetry JS SDK (spans, log records, metrics, stamped now), and the official
// OTLP exporters for each transport ingest serves, so the tests check ingest against what real SDKs send.
import { Metadata } from "@grpc/grpc-js";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter as GrpcLogExporter } from "@opentelemetry/exporter-logs-otlp-grpc";
import { OTLPLogExporter as JsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtoLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter as GrpcMetricExporter } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as GrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { encodeResource, encodeScope, encodeTraceExport } from "@trellis/otlp";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";

export type Transport = "http/json" | "http/protobuf" | "grpc";

export type ExportResult = { code: number; error?: Error };
type Exporter<T> = { export(items: T, done: (result: ExportResult) => void): void; shutdown(): Promise<void> };
export type Exporters = { traces: Exporter<ReadableSpan[]>; metrics: Exporter<ResourceMetrics>; logs: Exporter<ReadableLogRecord[]> };

/** `timeoutMillis` bounds an export with its retries (the exporters retry 429/503 within it, honouring Retry-After). */
export type ExporterOptions = { token?: string; gzip?: boolean; timeoutMillis?: number };

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>["compression"]>;

/** `url` is the ingest's base URL for the transport (http://127.0.0.1:<port>). */
export function createExporters(transport: Transport, url: string, { token, gzip = false, timeoutMillis = 10_000 }: ExporterOptions = {}): Exporters {
  const common = { timeoutMillis, compression: (gzip ? "gzip" : "none") as Compression };
  if (transport === "grpc") {
    const metadata = new Metadata();
    if (token) metadata.set("authorization", `Bearer ${token}`);
    const config = { ...common, url, metadata };
    return { traces: new GrpcTraceExporter(config), metrics: new GrpcMetricExporter(config), logs: new GrpcLogExporter(config) };
  }
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const http = (path: string) => ({ ...common, url: `${url}${path}`, headers });
  if (transport === "http/json") {
    return { traces: new JsonTraceExporter(http("/v1/traces")), metrics: new JsonMetricExporter(http("/v1/metrics")), logs: new JsonLogExporter(http("/v1/logs")) };
  }
  return { traces: new ProtoTraceExporter(http("/v1/traces")), metrics: new ProtoMetricExporter(http("/v1/metrics")), logs: new ProtoLogExporter(http("/v1/logs")) };
}

export function send<T>(exporter: Exporter<T>, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

export async function shutdownAll(exporters: Exporters): Promise<void> {
  await Promise.all([exporters.traces.shutdown(), exporters.metrics.shutdown(), exporters.logs.shutdown()]);
}

/** One trace of `count` spans: a server span and its client children, all of `service`, stamped just now. */
export async function makeSpans(service: string, count = 3): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes({ "service.name": service }), spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer("ingest-test");
  const root = tracer.startSpan("GET /", { kind: SpanKind.SERVER, attributes: { "http.response.status_code": 200 } });
  for (let i = 1; i < count; i += 1) tracer.startSpan(`call ${i}`, { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, root)).end();
  root.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return [...spans];
}

/** The same spans as an ExportTraceServiceRequest body, for tests that post bytes themselves. */
export async function makeTraceRequest(service: string, count = 3): Promise<Uint8Array> {
  return encodeTraceExport(encodeResource({ "service.name": service }), encodeScope("ingest-test"), await makeSpans(service, count));
}

/** Two log records of `service`, the first inside a trace. */
export async function makeLogs(service: string): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ "service.name": service }), processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger("ingest-test");
  const span = trace.wrapSpanContext({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 });
  logger.emit({ body: "GET /cart 200", severityNumber: SeverityNumber.INFO, severityText: "INFO", attributes: { "http.route": "/cart" }, context: trace.setSpan(ROOT_CONTEXT, span) });
  logger.emit({ body: "cache miss", severityNumber: SeverityNumber.WARN, attributes: { key: "cart:42" } });
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  await provider.shutdown();
  return [...records];
}

/** A counter with two series and a histogram with one: three data points of `service`. */
export async function makeMetrics(service: string): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ "service.name": service }), readers: [reader] });
  const meter = provider.getMeter("ingest-test");
  const requests = meter.createCounter("app_requests_total");
  requests.add(3, { route: "/a" });
  requests.add(2, { route: "/b" });
  meter.createHistogram("app_request_duration_ms", { unit: "ms" }).record(12.5, { route: "/a" });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

/** The SDK's pull reader, collected by hand: the test decides when metrics are exported. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
