// ExportTraceServiceRequest written straight to protobuf from the SDK's finished spans (ReadableSpan-like), with
// the Resource and InstrumentationScope bytes made once (encode-common.ts). Same content as
// @opentelemetry/otlp-transformer's ProtobufTraceSerializer (the tests decode both), without its intermediate
// objects, Longs and reflection: this runs on the sidecar's event loop for every exported span.
import { writeKeyValues, type EncodableAttributes, type EncodedResource, type EncodedScope } from "./encode-common.ts";
import { FIXED32, FIXED64, ProtobufWriter, VARINT } from "./protobuf-writer.ts";

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
  const w = new ProtobufWriter(resource.field.length + scope.field.length + 64 + spans.length * 640);
  const resourceSpans = w.begin(1);
  w.raw(resource.field);
  const scopeSpans = w.begin(2);
  w.raw(scope.field);
  for (const span of spans) writeSpan(w, span);
  w.end(scopeSpans);
  w.end(resourceSpans);
  return w.finish();
}

function writeSpan(w: ProtobufWriter, span: EncodableSpan): void {
  const at = w.begin(2);
  const context = span.spanContext();
  w.hex(1, context.traceId);
  w.hex(2, context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) w.string(3, traceState);
  const parent = span.parentSpanContext;
  if (parent?.spanId) w.hex(4, parent.spanId);
  if (span.name !== "") w.string(5, span.name);
  // The API's SpanKind starts at INTERNAL = 0; OTLP keeps 0 for unspecified.
  w.tag(6, VARINT);
  w.uint32(span.kind + 1);
  w.tag(7, FIXED64);
  w.hrTime(span.startTime[0], span.startTime[1]);
  w.tag(8, FIXED64);
  w.hrTime(span.endTime[0], span.endTime[1]);
  writeKeyValues(w, 9, span.attributes);
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
  // Status is always present (possibly empty), as the SDK's serializer writes it.
  const status = w.begin(15);
  if (span.status.message) w.string(2, span.status.message);
  if (span.status.code !== 0) {
    w.tag(3, VARINT);
    w.uint32(span.status.code);
  }
  w.end(status);
  w.tag(16, FIXED32);
  w.fixed32(spanFlags(context.traceFlags, parent?.isRemote));
  w.end(at);
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
