// Test helper: an export request decoded to a plain object with every field, defaults included, so two encodings
// of the same content compare equal whether or not they wrote proto3 default values.
import { root } from "../testing/protobufjs-oracle/schema.ts";

const types = {
  trace: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
  logs: root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"),
  metrics: root.lookupType("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"),
};

export function decodeToPlainObject(kind: keyof typeof types, bytes: Uint8Array): Record<string, unknown> {
  const type = types[kind];
  return type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true, enums: Number, oneofs: true });
}
