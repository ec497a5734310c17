// Test oracle: the protobufjs message types built once from the embedded .proto text, and the TypeScript shapes of
// what their decoders return (protobufjs is reflection-based, so these shapes are declared here, next to the schema).
import protobuf from "protobufjs";
import { OTLP_PROTO_FILES } from "./otlp-proto.ts";
import type { WireExportLogsServiceRequest, WireExportMetricsServiceRequest } from "./wire-metrics-logs.ts";

/** int64/fixed64 as protobufjs returns them: a Long when the `long` package is present (it is a dependency). */
export type WireLong = { low: number; high: number } | number;

/** Unset bytes fields decode as an empty array, set ones as a Buffer. */
export type WireBytes = ArrayLike<number>;

export type WireAnyValue = {
  value?: "stringValue" | "boolValue" | "intValue" | "doubleValue" | "arrayValue" | "kvlistValue" | "bytesValue";
  stringValue?: string;
  boolValue?: boolean;
  intValue?: WireLong;
  doubleValue?: number;
  arrayValue?: { values: WireAnyValue[] } | null;
  kvlistValue?: { values: WireKeyValue[] } | null;
  bytesValue?: WireBytes;
};

export type WireKeyValue = { key: string; value?: WireAnyValue | null };

export type WireSpanEvent = { timeUnixNano: WireLong; name: string; attributes: WireKeyValue[] };

export type WireSpanLink = { traceId: WireBytes; spanId: WireBytes; traceState: string; attributes: WireKeyValue[] };

export type WireSpan = {
  traceId: WireBytes;
  spanId: WireBytes;
  parentSpanId: WireBytes;
  name: string;
  kind: number;
  startTimeUnixNano: WireLong;
  endTimeUnixNano: WireLong;
  attributes: WireKeyValue[];
  events: WireSpanEvent[];
  links: WireSpanLink[];
  status?: { message: string; code: number } | null;
};

export type WireScopeSpans = { scope?: { name: string } | null; spans: WireSpan[] };

export type WireResourceSpans = { resource?: { attributes: WireKeyValue[] } | null; scopeSpans: WireScopeSpans[] };

export type WireExportTraceServiceRequest = { resourceSpans: WireResourceSpans[] };

/** The embedded schema, parsed once (also used by the encoder tests to read back what they wrote). */
export const root = new protobuf.Root();
for (const source of OTLP_PROTO_FILES) protobuf.parse(source, root, { keepCase: false });
root.resolveAll();

const exportTraceServiceRequest = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
const exportMetricsServiceRequest = root.lookupType("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest");
const exportLogsServiceRequest = root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest");

/** Throws protobufjs's own error (with the wire offset) on a malformed body. */
export function decodeExportTraceServiceRequest(body: Uint8Array): WireExportTraceServiceRequest {
  // The declared shape mirrors the schema above; protobufjs guarantees field types for known fields.
  return exportTraceServiceRequest.decode(body) as unknown as WireExportTraceServiceRequest;
}

/** As decodeExportTraceServiceRequest; the shape is declared in wire-metrics-logs.ts. */
export function decodeExportMetricsServiceRequest(body: Uint8Array): WireExportMetricsServiceRequest {
  return exportMetricsServiceRequest.decode(body) as unknown as WireExportMetricsServiceRequest;
}

export function decodeExportLogsServiceRequest(body: Uint8Array): WireExportLogsServiceRequest {
  return exportLogsServiceRequest.decode(body) as unknown as WireExportLogsServiceRequest;
}
