// Span messages written straight to protobuf, two ways: from the SDK's finished spans (ReadableSpan-like) into a
// whole ExportTraceServiceRequest (encodeTraceExport: same content as @opentelemetry/otlp-transformer's
// ProtobufTraceSerializer, the tests decode both), and from a sender's own span, appended to a RecordBatch as it
// ends (beginSpan / finishSpan, its attributes written in between through the batch). No intermediate objects,
// Longs or reflection: this runs on the sidecar's event loop for every exported span.
import { writeKeyValues, type EncodableAttributes, type EncodedResource, type EncodedScope } from "./encode-common.ts";
import { FIXED32, FIXED64, ProtobufWriter, VARINT } from "./protobuf-writer.ts";
import { RecordBatch, type BatchFraming } from "./record-batch.ts";

/** [seconds, nanoseconds], as OpenTelemetry's HrTime. */
export type EncodableHrTime = readonly [number, number];

export type EncodableSpanContext = {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly isRemote?: boolean;
  readonly traceState?: { serialize(): string };
};

/** The fields of the SDK's ReadableSpan that OTLP carries. `kind` is the API's SpanKind (INTERNAL = 0). */
export type EncodableSpan = {
  readonly name: string;
  readonly kind: number;
  spanContext(): EncodableSpanContext;
  readonly parentSpanContext?: EncodableSpanContext | undefined;
  readonly startTime: EncodableHrTime;
  readonly endTime: EncodableHrTime;
  readonly attributes: EncodableAttributes;
  readonly droppedAttributesCount: number;
  readonly events: readonly { readonly name: string; readonly time: EncodableHrTime; readonly attributes?: EncodableAttributes; readonly droppedAttributesCount?: number }[];
  readonly droppedEventsCount: number;
  readonly links: readonly { readonly context: EncodableSpanContext; readonly attributes?: EncodableAttributes; readonly droppedAttributesCount?: number }[];
  readonly droppedLinksCount: number;
  readonly status: { readonly code: number; readonly message?: string };
};

// OTLP span flags: the low 8 bits are the W3C trace flags; bit 8 says whether bit 9 (parent is remote) is known.
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

/**
 * One ExportTraceServiceRequest: one ResourceSpans with one ScopeSpans holding `spans`. Every span must come from
 * the resource and scope given (one tracer of one provider, as in the sidecar). Returns a fresh buffer.
 */
export function encodeTraceExport(resource: EncodedResource, scope: EncodedScope, spans: readonly EncodableSpan[]): Uint8Array {
  const batch = startTraceBatch({ resource, scope }, 64 + spans.length * 640);
  for (const span of spans) writeSdkSpan(batch.w, span);
  batch.count = spans.length;
  return batch.seal();
}

/** Span.attributes: where a trace batch's `string` / `number` write. */
const SPAN_ATTRIBUTES = 9;

/** An empty ExportTraceServiceRequest for `framing`'s resource and scope, to append spans to. */
export function startTraceBatch(framing: BatchFraming, expectedBytes: number, reuse?: Buffer): RecordBatch {
  return new RecordBatch(framing, SPAN_ATTRIBUTES, expectedBytes, reuse);
}

/** OTLP's SpanKind (0 is unspecified, unlike the API's enum, which starts at INTERNAL = 0). */
export const OTLP_SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** What beginSpan writes of a sender's own span: times are epoch milliseconds, fractional (timeOrigin + now()). */
export type SpanHead = {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string | undefined;
  readonly parentSpanId: string | null;
  readonly name: string;
  /** OTLP_SPAN_KIND. */
  readonly kind: number;
  readonly startTimeMs: number;
  readonly endTimeMs: number;
};

/**
 * Starts a Span in `batch` with its ids, name, kind and times; write its attributes through the batch (the
 * AttributeSink), then close it with finishSpan(batch, returned position, …).
 */
export function beginSpan(batch: RecordBatch, span: SpanHead): number {
  const w = batch.w;
  const at = w.begin(2);
  writeSpanIds(w, span.traceId, span.spanId, span.traceState, span.parentSpanId, span.name, span.kind);
  w.tag(7, FIXED64);
  w.epochMillis(span.startTimeMs);
  w.tag(8, FIXED64);
  w.epochMillis(span.endTimeMs);
  return at;
}

/** Status (0 unset, 2 error) and flags (W3C trace flags, and whether the parent was remote), then the Span ends. */
export function finishSpan(batch: RecordBatch, at: number, statusCode: number, traceFlags: number, parentIsRemote: boolean): void {
  writeStatusAndFlags(batch.w, statusCode, undefined, spanFlags(traceFlags, parentIsRemote));
  batch.w.end(at);
  batch.count += 1;
}

function writeSpanIds(w: ProtobufWriter, traceId: string, spanId: string, traceState: string | undefined, parentSpanId: string | null | undefined, name: string, kind: number): void {
  w.hex(1, traceId);
  w.hex(2, spanId);
  if (traceState) w.string(3, traceState);
  if (parentSpanId) w.hex(4, parentSpanId);
  if (name !== "") w.string(5, name);
  w.tag(6, VARINT);
  w.uint32(kind);
}

function writeSdkSpan(w: ProtobufWriter, span: EncodableSpan): void {
  const at = w.begin(2);
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  // The API's SpanKind starts at INTERNAL = 0; OTLP keeps 0 for unspecified.
  writeSpanIds(w, context.traceId, context.spanId, context.traceState?.serialize(), parent?.spanId, span.name, span.kind + 1);
  w.tag(7, FIXED64);
  w.hrTime(span.startTime[0], span.startTime[1]);
  w.tag(8, FIXED64);
  w.hrTime(span.endTime[0], span.endTime[1]);
  writeKeyValues(w, SPAN_ATTRIBUTES, span.attributes);
  writeCount(w, 10, span.droppedAttributesCount);
  for (const event of span.events) {
    const e = w.begin(11);
    w.tag(1, FIXED64);
    w.hrTime(event.time[0], event.time[1]);
    if (event.name !== "") w.string(2, event.name);
    if (event.attributes !== undefined) writeKeyValues(w, 3, event.attributes);
    writeCount(w, 4, event.droppedAttributesCount ?? 0);
    w.end(e);
  }
  writeCount(w, 12, span.droppedEventsCount);
  for (const link of span.links) {
    const l = w.begin(13);
    w.hex(1, link.context.traceId);
    w.hex(2, link.context.spanId);
    const linkState = link.context.traceState?.serialize();
    if (linkState) w.string(3, linkState);
    if (link.attributes !== undefined) writeKeyValues(w, 4, link.attributes);
    writeCount(w, 5, link.droppedAttributesCount ?? 0);
    w.tag(6, FIXED32);
    w.fixed32(spanFlags(link.context.traceFlags, link.context.isRemote));
    w.end(l);
  }
  writeCount(w, 14, span.droppedLinksCount);
  writeStatusAndFlags(w, span.status.code, span.status.message, spanFlags(context.traceFlags, parent?.isRemote));
  w.end(at);
}

function writeStatusAndFlags(w: ProtobufWriter, code: number, message: string | undefined, flags: number): void {
  // Status is always present (possibly empty), as the SDK's serializer writes it.
  const status = w.begin(15);
  if (message) w.string(2, message);
  if (code !== 0) {
    w.tag(3, VARINT);
    w.uint32(code);
  }
  w.end(status);
  w.tag(16, FIXED32);
  w.fixed32(flags);
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function writeCount(w: ProtobufWriter, field: number, count: number): void {
  if (count > 0) {
    w.tag(field, VARINT);
    w.uint32(count);
  }
}
