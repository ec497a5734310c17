// The sidecar's spans without an SDK: a span is one small object holding what its OTLP Span will say; when it
// ends, it is encoded straight into the pending export batch (export-queue.ts) and nothing of it is kept. Sampling
// is parent-based (a caller's decision is kept; traces started here are sampled at the configured ratio), and an
// unsampled span costs its ids and nothing more.
import type { IncomingHttpHeaders } from "node:http";
import { AttributeRecord, beginSpan, encodeScope, finishSpan, OTLP_SPAN_KIND, startTraceBatch, type EncodedResource, type RecordBatch, type SpanHead } from "@trellis/otlp/encode";
import { isErrorStatus, type ResponseFlag } from "../response-flags.ts";
import { createExportQueue, type OnDrop } from "./export-queue.ts";
import { createOtlpPoster } from "./otlp-exporters.ts";
import type { RequestRecord } from "./records.ts";
import { visitSpanAttributes } from "./span-attributes.ts";
import { extractTraceContext, sampleTraceId, type TraceContext } from "./trace-context.ts";
import { newSpanId, newTraceId } from "./trace-ids.ts";

/** The sidecar's one instrumentation scope for spans. */
export const TRACER_NAME = "@trellis/sidecar";
/** Spans that may wait for export (pending or sealed); beyond that they are dropped and counted. */
export const SPAN_QUEUE_SIZE = 8_192;
/**
 * Spans per export request. Encoding happens as spans end and sealing is constant time, so the batch size no
 * longer bounds how long an export holds the event loop; 512 cost ~10% less CPU per span than 256 (half the
 * POSTs; bench/results/sidecar-telemetry-cost.md) at ~350 KB a request.
 */
export const SPAN_BATCH_SIZE = 512;

const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

export type HttpSpanStart = {
  kind: "server" | "client";
  method: string;
  path: string;
  /** Host the request was addressed to (server spans) or the endpoint called (client spans). */
  serverAddress: string;
  serverPort?: number;
  /** Destination service name, on client spans. */
  upstreamService?: string;
  /** The caller's context (telemetry.extract) or this sidecar's span the new one belongs under; null starts a trace. */
  parent: TraceContext | null;
};

export type HttpSpanEnd = {
  status: number | null;
  flag: ResponseFlag | null;
  /** The request's finished record, when the caller has it: its fields become the span's final attributes. */
  record?: RequestRecord;
};

/**
 * One HTTP exchange's span (SERVER for a request taken in, CLIENT for each attempt sent on). It is also the trace
 * context of what it leads to: inject it into the next hop's headers, give it as the parent of a child span.
 */
export class HttpSpan implements TraceContext, SpanHead {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
  readonly remote = false;
  readonly parentSpanId: string | null;
  readonly parentIsRemote: boolean;
  /** OTLP's SpanKind. */
  readonly kind: number;
  /** The method: semconv's span name when no low-cardinality route template is known, which a proxy never is. */
  readonly name: string;
  readonly path: string;
  /** server.address and server.port: the addressed host at first, the endpoint once one is picked. */
  serverAddress: string;
  serverPort: number | undefined;
  readonly upstreamService: string | undefined;
  /** Epoch milliseconds with sub-millisecond precision. */
  readonly startTimeMs: number;
  endTimeMs = 0;

  // What routing learns on the way (trellis.route_name, trellis.cluster, …; span-attributes.ts names them all).
  routeName: string | undefined = undefined;
  cluster: string | undefined = undefined;
  destinationSubset: string | undefined = undefined;
  destinationWorkload: string | undefined = undefined;
  /** http.request.resend_count: the attempt's number, on a retry's span. */
  resendCount: number | undefined = undefined;
  /** Why inbound authorization refused the request. */
  rbacDenied: string | undefined = undefined;

  // How it ended (endHttpSpan).
  ended = false;
  status: number | null = null;
  flag: ResponseFlag | null = null;
  record: RequestRecord | undefined = undefined;

  constructor(start: HttpSpanStart, samplingRatio: number) {
    const parent = start.parent;
    this.traceId = parent?.traceId ?? newTraceId();
    this.spanId = newSpanId();
    this.sampled = parent === null ? sampleTraceId(this.traceId, samplingRatio) : parent.sampled;
    this.traceState = parent?.traceState;
    this.parentSpanId = parent?.spanId ?? null;
    this.parentIsRemote = parent?.remote ?? false;
    this.kind = start.kind === "server" ? OTLP_SPAN_KIND.SERVER : OTLP_SPAN_KIND.CLIENT;
    this.name = start.method;
    this.path = start.path;
    this.serverAddress = start.serverAddress;
    this.serverPort = start.serverPort;
    this.upstreamService = start.upstreamService;
    this.startTimeMs = performance.timeOrigin + performance.now();
  }

  /** Records how the exchange ended; false when the span had already ended (only the first end counts). */
  end({ status, flag, record }: HttpSpanEnd): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.endTimeMs = performance.timeOrigin + performance.now();
    this.status = status;
    this.flag = flag;
    this.record = record;
    return true;
  }

  /** The endpoint an attempt goes to: server.address, server.port and trellis.destination_workload. */
  setEndpoint(host: string, port: number, workload: string): void {
    this.serverAddress = host;
    this.serverPort = port;
    this.destinationWorkload = workload;
  }

  /** OTLP status: error for a 5xx or no response, as Envoy's tracer marks them. */
  statusCode(): number {
    return isErrorStatus(this.status) ? STATUS_ERROR : STATUS_UNSET;
  }
}

/** Appends an ended span to a trace batch (export-queue.ts calls this with the pending batch). */
export function writeSpan(batch: RecordBatch, span: HttpSpan): void {
  const at = beginSpan(batch, span);
  visitSpanAttributes(span, batch);
  finishSpan(batch, at, span.statusCode(), span.sampled ? 1 : 0, span.parentIsRemote);
}

/** An ended, sampled span as a test hook sees it: the attributes exactly as exported. */
export type FinishedSpan = {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: "server" | "client";
  startTimeMs: number;
  endTimeMs: number;
  attributes: Record<string, string | number>;
  /** OTLP's: 0 unset, 2 error. */
  statusCode: number;
};

export function toFinishedSpan(span: HttpSpan): FinishedSpan {
  const attributes = new AttributeRecord();
  visitSpanAttributes(span, attributes);
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind === OTLP_SPAN_KIND.SERVER ? "server" : "client",
    startTimeMs: span.startTimeMs,
    endTimeMs: span.endTimeMs,
    attributes: attributes.values,
    statusCode: span.statusCode(),
  };
}

export type SpanExport = {
  /** The caller's trace context, W3C or B3; null starts a new trace. */
  extract: (headers: IncomingHttpHeaders) => TraceContext | null;
  start: (start: HttpSpanStart) => HttpSpan;
  /** Ends the span (only its first end counts) and, when sampled, encodes it into the pending batch. */
  end: (span: HttpSpan, end: HttpSpanEnd) => void;
  shutdown: () => Promise<void>;
};

export function createSpanExport({
  resource,
  otlpEndpoint,
  otlpHeaders,
  samplingRatio,
  onSpanEnd,
  onDrop,
}: {
  resource: EncodedResource;
  otlpEndpoint: string;
  otlpHeaders: Record<string, string>;
  /** Share of traces started here that are sampled, 0..1. */
  samplingRatio: number;
  /** Sees every sampled span as it ends (tests read spans back through it). */
  onSpanEnd?: (span: FinishedSpan) => void;
  onDrop: OnDrop;
}): SpanExport {
  const framing = { resource, scope: encodeScope(TRACER_NAME) };
  const queue = createExportQueue({
    poster: createOtlpPoster({ url: `${otlpEndpoint}/v1/traces`, headers: otlpHeaders }),
    startBatch: (expectedBytes, reuse) => startTraceBatch(framing, expectedBytes, reuse),
    onDrop,
    capacity: SPAN_QUEUE_SIZE,
    batchSize: SPAN_BATCH_SIZE,
    bytesPerRecord: 700,
  });
  // A B3 caller that left the decision to us gets the decision a trace started here would.
  const decide = (traceId: string) => sampleTraceId(traceId, samplingRatio);
  return {
    extract: (headers) => extractTraceContext(headers, decide),
    start: (start) => new HttpSpan(start, samplingRatio),
    end(span, end) {
      if (!span.end(end) || !span.sampled) return;
      queue.append(writeSpan, span);
      onSpanEnd?.(toFinishedSpan(span));
    },
    shutdown: queue.shutdown,
  };
}
