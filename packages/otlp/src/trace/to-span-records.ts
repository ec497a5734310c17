// The format-independent half of trace decoding: both the protobuf and the JSON reader produce SpanInputs,
// and this checks ids and times (a bad span is rejected, the rest kept, as OTLP partial success allows; one
// unstorable span must not fail the whole batch) and derives the resource-level fields every span carries.
import { SpanKind, StatusCode, type AttributeValue, type Attributes, type SpanEvent, type SpanLink, type SpanRecord } from "../span-record.ts";

export type SpanInput = {
  /** Where the span sits in the request, for error messages: [resource index, scope index, span index]. */
  position: readonly [number, number, number];
  /** Lowercase hex as received; the length and content are checked here. */
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: SpanEvent[];
  /** Ids as received (lowercase hex); links with invalid ids are dropped here. traceState "" when unset. */
  links: LinkInput[];
  statusCode: number;
  statusMessage: string;
  /** The instrumentation scope's name, "" when unset. */
  scopeName: string;
};

export type LinkInput = { traceId: string; spanId: string; traceState: string; attributes: Attributes };

export type ResourceSpansInput = { resourceAttributes: Attributes; spans: SpanInput[] };

export type DecodedTraces = { spans: SpanRecord[]; rejectedSpans: number; errors: string[] };

/** Enough to see what is wrong without making a response for a batch of 10,000 bad spans huge. */
const MAX_ERRORS = 10;

/** Nanoseconds above int64 (year 2262) are not times, and would overflow the stored duration. */
const MAX_TIME_UNIX_NANO = 2n ** 63n - 1n;

const SPAN_KINDS: ReadonlySet<number> = new Set(Object.values(SpanKind));
const STATUS_CODES: ReadonlySet<number> = new Set(Object.values(StatusCode));

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

export function toSpanRecords(resources: readonly ResourceSpansInput[]): DecodedTraces {
  const result: DecodedTraces = { spans: [], rejectedSpans: 0, errors: [] };
  for (const resource of resources) {
    const service = readService(resource.resourceAttributes);
    for (const span of resource.spans) {
      const problem = findIdProblem(span) ?? findTimeProblem(span);
      if (problem) {
        result.rejectedSpans += 1;
        if (result.errors.length < MAX_ERRORS) result.errors.push(`${formatPosition(span.position)}: ${problem}`);
        continue;
      }
      result.spans.push({
        traceId: span.traceId,
        spanId: span.spanId,
        // Some converters write an all-zero parent for a root span; it means "no parent", not a bad span.
        parentSpanId: span.parentSpanId === "" || ALL_ZERO.test(span.parentSpanId) ? null : span.parentSpanId,
        // Spelled out rather than spread: this runs per span, and a spread of a shared object is much slower.
        serviceName: service.serviceName,
        serviceNamespace: service.serviceNamespace,
        serviceVersion: service.serviceVersion,
        scopeName: span.scopeName === "" ? null : span.scopeName,
        name: span.name,
        kind: SPAN_KINDS.has(span.kind) ? span.kind : SpanKind.UNSPECIFIED,
        startTimeUnixNano: span.startTimeUnixNano,
        endTimeUnixNano: span.endTimeUnixNano,
        statusCode: STATUS_CODES.has(span.statusCode) ? span.statusCode : StatusCode.UNSET,
        statusMessage: span.statusMessage === "" ? null : span.statusMessage,
        httpStatusCode: readHttpStatus(span.attributes),
        attributes: span.attributes,
        resourceAttributes: resource.resourceAttributes,
        events: span.events,
        links: toLinks(span.links),
      });
    }
  }
  if (result.rejectedSpans > result.errors.length) {
    result.errors.push(`…and ${result.rejectedSpans - result.errors.length} more rejected spans`);
  }
  return result;
}

export function formatPosition([resource, scope, span]: readonly [number, number, number]): string {
  return `resourceSpans[${resource}].scopeSpans[${scope}].spans[${span}]`;
}

function findIdProblem(span: SpanInput): string | undefined {
  if (!isTraceId(span.traceId)) {
    return `traceId ${quoteId(span.traceId)} is invalid (expected 16 bytes, 32 hex characters, not all zero)`;
  }
  if (!isSpanId(span.spanId)) {
    return `spanId ${quoteId(span.spanId)} is invalid (expected 8 bytes, 16 hex characters, not all zero)`;
  }
  if (span.parentSpanId !== "" && !SPAN_ID.test(span.parentSpanId)) {
    return `parentSpanId ${quoteId(span.parentSpanId)} is invalid (expected empty for a root span, or 8 bytes, 16 hex characters)`;
  }
  return undefined;
}

function isTraceId(id: string): boolean {
  return TRACE_ID.test(id) && !ALL_ZERO.test(id);
}

function isSpanId(id: string): boolean {
  return SPAN_ID.test(id) && !ALL_ZERO.test(id);
}

/** A link pointing nowhere carries no information; dropping it keeps the span, which is what matters. */
function toLinks(links: readonly LinkInput[]): SpanLink[] {
  const kept: SpanLink[] = [];
  for (const link of links) {
    if (!isTraceId(link.traceId) || !isSpanId(link.spanId)) continue;
    kept.push({ traceId: link.traceId, spanId: link.spanId, traceState: link.traceState === "" ? null : link.traceState, attributes: link.attributes });
  }
  return kept;
}

function findTimeProblem(span: SpanInput): string | undefined {
  if (span.startTimeUnixNano === 0n) return "startTimeUnixNano is missing (it is required: unix time in nanoseconds)";
  if (span.endTimeUnixNano > MAX_TIME_UNIX_NANO || span.startTimeUnixNano > MAX_TIME_UNIX_NANO) {
    return `times after the year 2262 are not valid (startTimeUnixNano ${span.startTimeUnixNano}, endTimeUnixNano ${span.endTimeUnixNano})`;
  }
  if (span.endTimeUnixNano < span.startTimeUnixNano) {
    return `endTimeUnixNano ${span.endTimeUnixNano} is before startTimeUnixNano ${span.startTimeUnixNano}`;
  }
  return undefined;
}

function quoteId(id: string): string {
  return JSON.stringify(id.length > 48 ? `${id.slice(0, 48)}…` : id);
}

export function readService(attributes: Attributes): Pick<SpanRecord, "serviceName" | "serviceNamespace" | "serviceVersion"> {
  return {
    serviceName: toText(attributes["service.name"]) ?? "unknown_service",
    serviceNamespace: toText(attributes["service.namespace"]),
    serviceVersion: toText(attributes["service.version"]),
  };
}

function toText(value: AttributeValue | undefined): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

/** http.response.status_code (current semantic conventions), else the older http.status_code. */
function readHttpStatus(attributes: Attributes): number | null {
  return toHttpStatus(attributes["http.response.status_code"]) ?? toHttpStatus(attributes["http.status_code"]);
}

function toHttpStatus(value: AttributeValue | undefined): number | null {
  const code = typeof value === "string" && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof code === "number" && Number.isInteger(code) && code >= 100 && code <= 999 ? code : null;
}
