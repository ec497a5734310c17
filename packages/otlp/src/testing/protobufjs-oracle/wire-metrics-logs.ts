// The TypeScript shapes protobufjs returns for the metrics and logs messages of otlp-proto.ts (reflection-based
// decoding, so declared by hand next to the schema, as schema.ts does for traces).
import type { WireAnyValue, WireBytes, WireKeyValue, WireLong } from "./schema.ts";

type WireResource = { attributes: WireKeyValue[] } | null | undefined;

export type WireNumberDataPoint = {
  attributes: WireKeyValue[];
  startTimeUnixNano: WireLong;
  timeUnixNano: WireLong;
  value?: "asDouble" | "asInt";
  asDouble?: number;
  asInt?: WireLong;
};

export type WireHistogramDataPoint = {
  attributes: WireKeyValue[];
  startTimeUnixNano: WireLong;
  timeUnixNano: WireLong;
  count: WireLong;
  /** proto3 `optional`: protobufjs names the set member in a synthetic oneof `_sum` etc. */
  sum?: number | null;
  _sum?: "sum";
  bucketCounts?: WireLong[];
  explicitBounds?: number[];
  min?: number | null;
  _min?: "min";
  max?: number | null;
  _max?: "max";
};

export type WireExponentialHistogramDataPoint = WireHistogramDataPoint & {
  scale: number;
  zeroCount: WireLong;
  positive?: WireExponentialBuckets | null;
  negative?: WireExponentialBuckets | null;
};

export type WireExponentialBuckets = { offset: number; bucketCounts: WireLong[] };

export type WireSummaryDataPoint = { attributes: WireKeyValue[]; startTimeUnixNano: WireLong; timeUnixNano: WireLong; count: WireLong; sum: number };

export type WireMetric = {
  name: string;
  description: string;
  unit: string;
  data?: "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary";
  gauge?: { dataPoints: WireNumberDataPoint[] } | null;
  sum?: { dataPoints: WireNumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean } | null;
  histogram?: { dataPoints: WireHistogramDataPoint[]; aggregationTemporality: number } | null;
  exponentialHistogram?: { dataPoints: WireExponentialHistogramDataPoint[]; aggregationTemporality: number } | null;
  summary?: { dataPoints: WireSummaryDataPoint[] } | null;
};

export type WireScope = { name: string; version: string } | null | undefined;

export type WireExportMetricsServiceRequest = {
  resourceMetrics: { resource?: WireResource; scopeMetrics: { scope?: WireScope; metrics: WireMetric[] }[] }[];
};

export type WireLogRecord = {
  timeUnixNano: WireLong;
  observedTimeUnixNano: WireLong;
  severityNumber: number;
  severityText: string;
  body?: WireAnyValue | null;
  attributes: WireKeyValue[];
  traceId: WireBytes;
  spanId: WireBytes;
  eventName: string;
};

export type WireExportLogsServiceRequest = {
  resourceLogs: { resource?: WireResource; scopeLogs: { scope?: WireScope; logRecords: WireLogRecord[] }[] }[];
};
