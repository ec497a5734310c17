// Reads an OTLP/protobuf ExportTraceServiceRequest straight off the wire into format-independent span inputs
// (opentelemetry/proto/trace/v1/trace.proto field numbers). Fields not kept are still read with their type, so a
// malformed body is refused exactly as a schema decoder refuses it.
import type { SpanEvent } from "../span-record.ts";
import { readKeyValue, readResource, readScopeName } from "../wire/read-common.ts";
import { readBody } from "../wire/read-body.ts";
import { FIXED64, LENGTH, VARINT, type WireReader } from "../wire/wire-reader.ts";
import type { LinkInput, ResourceSpansInput, SpanInput } from "./to-span-records.ts";

const tag = (field: number, wireType: number) => (field << 3) | wireType;

// ExportTraceServiceRequest, ResourceSpans, ScopeSpans.
const RESOURCE_SPANS = tag(1, LENGTH);
const RESOURCE = tag(1, LENGTH);
const SCOPE_SPANS = tag(2, LENGTH);
const SCOPE = tag(1, LENGTH);
const SCHEMA_URL = tag(3, LENGTH);
const SPANS = tag(2, LENGTH);

// Span.
const TRACE_ID = tag(1, LENGTH);
const SPAN_ID = tag(2, LENGTH);
const TRACE_STATE = tag(3, LENGTH);
const PARENT_SPAN_ID = tag(4, LENGTH);
const NAME = tag(5, LENGTH);
const KIND = tag(6, VARINT);
const START_TIME = tag(7, FIXED64);
const END_TIME = tag(8, FIXED64);
const ATTRIBUTES = tag(9, LENGTH);
const DROPPED_ATTRIBUTES = tag(10, VARINT);
const EVENTS = tag(11, LENGTH);
const DROPPED_EVENTS = tag(12, VARINT);
const LINKS = tag(13, LENGTH);
const DROPPED_LINKS = tag(14, VARINT);
const STATUS = tag(15, LENGTH);

// Span.Event, Span.Link, Status.
const EVENT_TIME = tag(1, FIXED64);
const EVENT_NAME = tag(2, LENGTH);
const EVENT_ATTRIBUTES = tag(3, LENGTH);
const EVENT_DROPPED_ATTRIBUTES = tag(4, VARINT);
const LINK_TRACE_ID = tag(1, LENGTH);
const LINK_SPAN_ID = tag(2, LENGTH);
const LINK_TRACE_STATE = tag(3, LENGTH);
const LINK_ATTRIBUTES = tag(4, LENGTH);
const LINK_DROPPED_ATTRIBUTES = tag(5, VARINT);
const STATUS_MESSAGE = tag(2, LENGTH);
const STATUS_CODE = tag(3, VARINT);

export function readProtobufTraces(body: Uint8Array): ResourceSpansInput[] {
  return readBody(body, "ExportTraceServiceRequest", (r) => {
    const resources: ResourceSpansInput[] = [];
    while (r.pos < r.limit) {
      const t = r.tag();
      if (t === RESOURCE_SPANS) resources.push(readResourceSpans(r, resources.length));
      else r.skip(t & 7, 0, t >>> 3);
    }
    return resources;
  });
}

function readResourceSpans(r: WireReader, index: number): ResourceSpansInput {
  const outer = r.enter(1);
  const resource: ResourceSpansInput = { resourceAttributes: {}, spans: [] };
  let scopes = 0;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === RESOURCE) readResource(r, resource.resourceAttributes, 2);
    else if (t === SCOPE_SPANS) readScopeSpans(r, resource.spans, index, scopes++);
    else if (t === SCHEMA_URL) r.skipString();
    else r.skip(t & 7, 1, t >>> 3);
  }
  r.leave(outer);
  return resource;
}

function readScopeSpans(r: WireReader, spans: SpanInput[], resourceIndex: number, scopeIndex: number): void {
  const outer = r.enter(2);
  const first = spans.length;
  let scopeName = "";
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === SPANS) spans.push(readSpan(r, [resourceIndex, scopeIndex, spans.length - first]));
    else if (t === SCOPE) scopeName = readScopeName(r, scopeName, 3);
    else if (t === SCHEMA_URL) r.skipString();
    else r.skip(t & 7, 2, t >>> 3);
  }
  r.leave(outer);
  // The scope may follow its spans on the wire.
  for (let i = first; i < spans.length; i += 1) (spans[i] as SpanInput).scopeName = scopeName;
}

function readSpan(r: WireReader, position: SpanInput["position"]): SpanInput {
  const depth = 3;
  const outer = r.enter(depth);
  const span: SpanInput = {
    position,
    traceId: "",
    spanId: "",
    parentSpanId: "",
    name: "",
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: "",
    scopeName: "",
  };
  while (r.pos < r.limit) {
    const t = r.tag();
    switch (t) {
      case TRACE_ID:
        span.traceId = r.hex();
        break;
      case SPAN_ID:
        span.spanId = r.hex();
        break;
      case PARENT_SPAN_ID:
        span.parentSpanId = r.hex();
        break;
      case NAME:
        span.name = r.string();
        break;
      case KIND:
        span.kind = r.int32();
        break;
      case START_TIME:
        span.startTimeUnixNano = r.fixed64();
        break;
      case END_TIME:
        span.endTimeUnixNano = r.fixed64();
        break;
      case ATTRIBUTES:
        readKeyValue(r, span.attributes, depth + 1);
        break;
      case EVENTS:
        span.events.push(readEvent(r, depth + 1));
        break;
      case LINKS:
        span.links.push(readLink(r, depth + 1));
        break;
      case STATUS:
        readStatus(r, span, depth + 1);
        break;
      case TRACE_STATE:
        r.skipString();
        break;
      case DROPPED_ATTRIBUTES:
      case DROPPED_EVENTS:
      case DROPPED_LINKS:
        r.uint32();
        break;
      default: // flags (16) is not kept
        r.skip(t & 7, depth, t >>> 3);
    }
  }
  r.leave(outer);
  return span;
}

/** Status is merged into the span's fields: a second Status message changes only the fields it carries. */
function readStatus(r: WireReader, span: SpanInput, depth: number): void {
  const outer = r.enter(depth);
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === STATUS_CODE) span.statusCode = r.int32();
    else if (t === STATUS_MESSAGE) span.statusMessage = r.string();
    else r.skip(t & 7, depth, t >>> 3);
  }
  r.leave(outer);
}

function readEvent(r: WireReader, depth: number): SpanEvent {
  const outer = r.enter(depth);
  const event: SpanEvent = { name: "", timeUnixNano: 0n, attributes: {} };
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === EVENT_TIME) event.timeUnixNano = r.fixed64();
    else if (t === EVENT_NAME) event.name = r.string();
    else if (t === EVENT_ATTRIBUTES) readKeyValue(r, event.attributes, depth + 1);
    else if (t === EVENT_DROPPED_ATTRIBUTES) r.uint32();
    else r.skip(t & 7, depth, t >>> 3);
  }
  r.leave(outer);
  return event;
}

function readLink(r: WireReader, depth: number): LinkInput {
  const outer = r.enter(depth);
  const link: LinkInput = { traceId: "", spanId: "", traceState: "", attributes: {} };
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === LINK_TRACE_ID) link.traceId = r.hex();
    else if (t === LINK_SPAN_ID) link.spanId = r.hex();
    else if (t === LINK_TRACE_STATE) link.traceState = r.string();
    else if (t === LINK_ATTRIBUTES) readKeyValue(r, link.attributes, depth + 1);
    else if (t === LINK_DROPPED_ATTRIBUTES) r.uint32();
    else r.skip(t & 7, depth, t >>> 3); // flags (6) is not kept
  }
  r.leave(outer);
  return link;
}
