// The test oracle for the wire decoders: the protobufjs-based decoding ingest used before (schema-driven, from the
// upstream .proto field numbers), run through the same validation. wire/oracle.test.ts decodes generated and
// mutated requests with both and expects the same records, or BAD_REQUEST from both.
import { toLogEntries } from "../../logs/to-log-entries.ts";
import type { DecodedLogs } from "../../logs/log-record.ts";
import type { DecodedMetrics } from "../../metrics/metric-record.ts";
import { toMetricPoints } from "../../metrics/to-metric-points.ts";
import { toSpanRecords, type DecodedTraces } from "../../trace/to-span-records.ts";
import { readProtobufLogs } from "./read-logs.ts";
import { readProtobufMetrics } from "./read-metrics.ts";
import { readProtobufTraces } from "./read-traces.ts";

export function decodeTracesWithProtobufjs(body: Uint8Array): DecodedTraces {
  return toSpanRecords(readProtobufTraces(body));
}

export function decodeLogsWithProtobufjs(body: Uint8Array): DecodedLogs {
  return toLogEntries(readProtobufLogs(body));
}

export function decodeMetricsWithProtobufjs(body: Uint8Array): DecodedMetrics {
  return toMetricPoints(readProtobufMetrics(body));
}
