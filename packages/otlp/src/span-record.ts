// The internal span record: what OTLP decoding produces and what the telemetry write path stores.
// Ids are lowercase hex; times are unix nanoseconds as bigint so nothing is lost to float rounding.

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export type SpanEvent = { name: string; timeUnixNano: bigint; attributes: Attributes };

/** A link to another span; links whose ids are invalid are dropped (the span itself is kept). */
export type SpanLink = { traceId: string; spanId: string; traceState: string | null; attributes: Attributes };

export type SpanRecord = {
  traceId: string; // 32 hex chars
  spanId: string; // 16 hex chars
  parentSpanId: string | null;
  serviceName: string; // resource attribute service.name ("unknown_service" when absent, as the SDKs do)
  serviceNamespace: string | null; // resource attribute service.namespace
  serviceVersion: string | null; // resource attribute service.version
  scopeName: string | null; // instrumentation scope name (null when the sender left it empty)
  name: string;
  kind: number; // SpanKind
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: number; // StatusCode
  statusMessage: string | null;
  httpStatusCode: number | null; // http.response.status_code, or the older http.status_code
  attributes: Attributes;
  resourceAttributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
};
