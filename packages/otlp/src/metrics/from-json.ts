// Reads an OTLP/JSON ExportMetricsServiceRequest into format-independent metric inputs; every type error names
// its path in the request.
import { badJson, field, readArray, readAttributes, readDouble, readEnum, readInt64, readObject, readString, readUint64, type JsonObject } from "../common/json-values.ts";
import { parseJsonBody } from "../common/parse-json.ts";
import type { ExponentialBuckets, MetricKind } from "./metric-record.ts";
import { toTemporality, type MetricInput, type PointInput, type ResourceMetricsInput } from "./to-metric-points.ts";

const TEMPORALITY_NAMES = { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 } as const;

const KINDS: readonly [string, MetricKind][] = [
  ["gauge", "gauge"],
  ["sum", "sum"],
  ["histogram", "histogram"],
  ["exponentialHistogram", "exponential_histogram"],
  ["summary", "summary"],
];

export function readJsonMetrics(body: Uint8Array): ResourceMetricsInput[] {
  const request = parseJsonBody(body, "ExportMetricsServiceRequest", "resourceMetrics");
  return readArray(field(request, "resourceMetrics"), "resourceMetrics").map((item, r) => {
    const path = `resourceMetrics[${r}]`;
    const resourceMetrics = readObject(item, path) ?? {};
    const resource = readObject(field(resourceMetrics, "resource"), `${path}.resource`) ?? {};
    return {
      resourceAttributes: readAttributes(field(resource, "attributes"), `${path}.resource.attributes`),
      scopes: readArray(field(resourceMetrics, "scopeMetrics"), `${path}.scopeMetrics`).map((scopeItem, s) => {
        const scopePath = `${path}.scopeMetrics[${s}]`;
        const scopeMetrics = readObject(scopeItem, scopePath) ?? {};
        const scope = readObject(field(scopeMetrics, "scope"), `${scopePath}.scope`) ?? {};
        return {
          scopeName: readString(field(scope, "name"), `${scopePath}.scope.name`),
          metrics: readArray(field(scopeMetrics, "metrics"), `${scopePath}.metrics`).map((metric, m) => toMetricInput(metric, `${scopePath}.metrics[${m}]`)),
        };
      }),
    };
  });
}

function toMetricInput(value: unknown, path: string): MetricInput {
  const metric = readObject(value, path) ?? {};
  const base = {
    path,
    name: readString(field(metric, "name"), `${path}.name`),
    description: readString(field(metric, "description"), `${path}.description`),
    unit: readString(field(metric, "unit"), `${path}.unit`),
  };
  for (const [key, kind] of KINDS) {
    const data = readObject(field(metric, key), `${path}.${key}`);
    if (data === undefined) continue;
    const dataPath = `${path}.${key}`;
    const points = readArray(field(data, "dataPoints"), `${dataPath}.dataPoints`).map((point, i) => toPointInput(kind, point, `${dataPath}.dataPoints[${i}]`));
    const temporality = toTemporality(readEnum(field(data, "aggregationTemporality"), `${dataPath}.aggregationTemporality`, TEMPORALITY_NAMES));
    const monotonic = field(data, "isMonotonic") === true;
    return { ...base, kind, temporality, monotonic, points };
  }
  return { ...base, kind: null, temporality: "unspecified", monotonic: false, points: [] };
}

function optionalDouble(object: JsonObject, key: string, path: string): number | null {
  const value = field(object, key);
  return value === undefined || value === null ? null : readDouble(value, `${path}.${key}`);
}

function toPointInput(kind: MetricKind, value: unknown, path: string): PointInput {
  const point = readObject(value, path) ?? {};
  const common = {
    attributes: readAttributes(field(point, "attributes"), `${path}.attributes`),
    startTimeUnixNano: readUint64(field(point, "startTimeUnixNano"), `${path}.startTimeUnixNano`),
    timeUnixNano: readUint64(field(point, "timeUnixNano"), `${path}.timeUnixNano`),
  };
  if (kind === "gauge" || kind === "sum") {
    const asInt = field(point, "asInt");
    const number = asInt !== undefined && asInt !== null ? Number(readInt64(asInt, `${path}.asInt`)) : optionalDouble(point, "asDouble", path);
    return { ...common, value: number, count: null, sum: null, min: null, max: null, bounds: [], bucketCounts: [], exponential: null };
  }
  const histogram = kind === "histogram";
  return {
    ...common,
    value: null,
    count: Number(readUint64(field(point, "count"), `${path}.count`)),
    sum: optionalDouble(point, "sum", path),
    min: optionalDouble(point, "min", path),
    max: optionalDouble(point, "max", path),
    bounds: histogram ? readArray(field(point, "explicitBounds"), `${path}.explicitBounds`).map((b, i) => readDouble(b, `${path}.explicitBounds[${i}]`)) : [],
    bucketCounts: histogram ? readCounts(field(point, "bucketCounts"), `${path}.bucketCounts`) : [],
    exponential:
      kind === "exponential_histogram"
        ? {
            scale: readSint32(field(point, "scale"), `${path}.scale`),
            zeroCount: Number(readUint64(field(point, "zeroCount"), `${path}.zeroCount`)),
            positive: readBuckets(field(point, "positive"), `${path}.positive`),
            negative: readBuckets(field(point, "negative"), `${path}.negative`),
          }
        : null,
  };
}

function readCounts(value: unknown, path: string): number[] {
  return readArray(value, path).map((c, i) => Number(readUint64(c, `${path}[${i}]`)));
}

function readBuckets(value: unknown, path: string): ExponentialBuckets {
  const buckets = readObject(value, path) ?? {};
  return { offset: readSint32(field(buckets, "offset"), `${path}.offset`), counts: readCounts(field(buckets, "bucketCounts"), `${path}.bucketCounts`) };
}

function readSint32(value: unknown, path: string): number {
  const parsed = readInt64(value, path);
  if (parsed < -(2n ** 31n) || parsed >= 2n ** 31n) throw badJson(path, `must be a 32-bit integer, got ${parsed}`);
  return Number(parsed);
}
