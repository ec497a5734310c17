// The entry point for OTLP metrics bodies: pick the reader for the wire format, then validate and flatten points.
import type { OtlpFormat } from "../trace/decode-trace-request.ts";
import { readJsonMetrics } from "./from-json.ts";
import { readProtobufMetrics } from "./read-protobuf-metrics.ts";
import type { DecodedMetrics } from "./metric-record.ts";
import { toMetricPoints } from "./to-metric-points.ts";

/**
 * Decodes an ExportMetricsServiceRequest into one record per data point. Bad points are counted in
 * `rejectedDataPoints` (with a message in `errors`); a body that cannot be decoded at all throws AppError("BAD_REQUEST").
 */
export function decodeMetricsRequest(body: Uint8Array, format: OtlpFormat): DecodedMetrics {
  return toMetricPoints(format === "protobuf" ? readProtobufMetrics(body) : readJsonMetrics(body));
}
