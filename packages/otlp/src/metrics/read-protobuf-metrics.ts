// Reads an OTLP/protobuf ExportMetricsServiceRequest straight off the wire into format-independent metric inputs
// (opentelemetry/proto/metrics/v1/metrics.proto field numbers). Fields not kept are still read with their type, so
// a malformed body is refused exactly as a schema decoder refuses it; repeated numbers are accepted packed or not.
import { readKeyValue, readResource, readScopeName } from "../wire/read-common.ts";
import { readBody } from "../wire/read-body.ts";
import { FIXED64, LENGTH, VARINT, type WireReader } from "../wire/wire-reader.ts";
import type { ExponentialBuckets, MetricKind } from "./metric-record.ts";
import { toTemporality, type MetricInput, type PointInput, type ResourceMetricsInput } from "./to-metric-points.ts";

const tag = (field: number, wireType: number) => (field << 3) | wireType;

// ExportMetricsServiceRequest, ResourceMetrics, ScopeMetrics.
const RESOURCE_METRICS = tag(1, LENGTH);
const RESOURCE = tag(1, LENGTH);
const SCOPE_METRICS = tag(2, LENGTH);
const SCOPE = tag(1, LENGTH);
const SCHEMA_URL = tag(3, LENGTH);
const METRICS = tag(2, LENGTH);

// Metric: name, description, unit, then the `data` oneof (field number → kind).
const NAME = tag(1, LENGTH);
const DESCRIPTION = tag(2, LENGTH);
const UNIT = tag(3, LENGTH);
const DATA_KINDS = new Map<number, MetricKind>([
  [tag(5, LENGTH), "gauge"],
  [tag(7, LENGTH), "sum"],
  [tag(9, LENGTH), "histogram"],
  [tag(10, LENGTH), "exponential_histogram"],
  [tag(11, LENGTH), "summary"],
]);

// Gauge, Sum, Histogram, ExponentialHistogram, Summary.
const DATA_POINTS = tag(1, LENGTH);
const AGGREGATION_TEMPORALITY = tag(2, VARINT);
const IS_MONOTONIC = tag(3, VARINT);

/** Field numbers of the data points' shared fields, which differ per point type. */
type PointFields = { attributes: number; flags: number };
const POINT_FIELDS: Record<MetricKind, PointFields> = {
  gauge: { attributes: 7, flags: 8 },
  sum: { attributes: 7, flags: 8 },
  histogram: { attributes: 9, flags: 10 },
  exponential_histogram: { attributes: 1, flags: 10 },
  summary: { attributes: 7, flags: 8 },
};

export function readProtobufMetrics(body: Uint8Array): ResourceMetricsInput[] {
  return readBody(body, "ExportMetricsServiceRequest", (r) => {
    const resources: ResourceMetricsInput[] = [];
    while (r.pos < r.limit) {
      const t = r.tag();
      if (t === RESOURCE_METRICS) resources.push(readResourceMetrics(r, `resourceMetrics[${resources.length}]`));
      else r.skip(t & 7, 0, t >>> 3);
    }
    return resources;
  });
}

function readResourceMetrics(r: WireReader, path: string): ResourceMetricsInput {
  const outer = r.enter(1);
  const resource: ResourceMetricsInput = { resourceAttributes: {}, scopes: [] };
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === RESOURCE) readResource(r, resource.resourceAttributes, 2);
    else if (t === SCOPE_METRICS) resource.scopes.push(readScopeMetrics(r, `${path}.scopeMetrics[${resource.scopes.length}]`));
    else if (t === SCHEMA_URL) r.skipString();
    else r.skip(t & 7, 1, t >>> 3);
  }
  r.leave(outer);
  return resource;
}

function readScopeMetrics(r: WireReader, path: string): ResourceMetricsInput["scopes"][number] {
  const outer = r.enter(2);
  const scope: ResourceMetricsInput["scopes"][number] = { scopeName: "", metrics: [] };
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === METRICS) scope.metrics.push(readMetric(r, `${path}.metrics[${scope.metrics.length}]`));
    else if (t === SCOPE) scope.scopeName = readScopeName(r, scope.scopeName, 3);
    else if (t === SCHEMA_URL) r.skipString();
    else r.skip(t & 7, 2, t >>> 3);
  }
  r.leave(outer);
  return scope;
}

function readMetric(r: WireReader, path: string): MetricInput {
  const depth = 3;
  const outer = r.enter(depth);
  const metric: MetricInput = { path, name: "", description: "", unit: "", kind: null, temporality: "unspecified", monotonic: false, points: [] };
  let temporality = 0;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === NAME) metric.name = r.string();
    else if (t === DESCRIPTION) metric.description = r.string();
    else if (t === UNIT) metric.unit = r.string();
    else {
      const kind = DATA_KINDS.get(t);
      if (kind === undefined) {
        r.skip(t & 7, depth, t >>> 3);
        continue;
      }
      // One member of the `data` oneof: another member replaces it, the same one sent again is merged into it.
      if (kind !== metric.kind) {
        metric.kind = kind;
        metric.monotonic = false;
        metric.points = [];
        temporality = 0;
      }
      temporality = readData(r, metric, kind, temporality, depth + 1);
    }
  }
  r.leave(outer);
  // Gauges and summaries have no temporality field; a stray one is read (and checked) but does not count.
  metric.temporality = metric.kind === "gauge" || metric.kind === "summary" ? "unspecified" : toTemporality(temporality);
  return metric;
}

/** Gauge / Sum / Histogram / ExponentialHistogram / Summary; returns the aggregation temporality as sent. */
function readData(r: WireReader, metric: MetricInput, kind: MetricKind, temporality: number, depth: number): number {
  const outer = r.enter(depth);
  const hasTemporality = kind !== "gauge" && kind !== "summary";
  let result = temporality;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === DATA_POINTS) metric.points.push(readPoint(r, kind, depth + 1));
    else if (t === AGGREGATION_TEMPORALITY && hasTemporality) result = r.int32();
    else if (t === IS_MONOTONIC && kind === "sum") metric.monotonic = r.bool();
    else r.skip(t & 7, depth, t >>> 3);
  }
  r.leave(outer);
  return result;
}

function readPoint(r: WireReader, kind: MetricKind, depth: number): PointInput {
  const outer = r.enter(depth);
  const fields = POINT_FIELDS[kind];
  const point: PointInput = {
    attributes: {},
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    value: null,
    count: kind === "gauge" || kind === "sum" ? null : 0,
    sum: kind === "summary" ? 0 : null,
    min: null,
    max: null,
    bounds: [],
    bucketCounts: [],
    exponential: kind === "exponential_histogram" ? { scale: 0, zeroCount: 0, positive: { offset: 0, counts: [] }, negative: { offset: 0, counts: [] } } : null,
  };
  while (r.pos < r.limit) {
    const t = r.tag();
    const field = t >>> 3;
    const wireType = t & 7;
    if (field === fields.attributes && wireType === LENGTH) readKeyValue(r, point.attributes, depth + 1);
    else if (t === tag(2, FIXED64)) point.startTimeUnixNano = r.fixed64();
    else if (t === tag(3, FIXED64)) point.timeUnixNano = r.fixed64();
    else if (field === fields.flags && wireType === VARINT) r.uint32();
    else if (!readKindField(r, kind, point, t, depth)) r.skip(wireType, depth, field);
  }
  r.leave(outer);
  return point;
}

/** The fields particular to each point type; false when `t` is not one of them. */
function readKindField(r: WireReader, kind: MetricKind, point: PointInput, t: number, depth: number): boolean {
  if (kind === "gauge" || kind === "sum") {
    // The `value` oneof of NumberDataPoint: as_double (4) or as_int (6), the last one sent wins.
    if (t === tag(4, FIXED64)) point.value = r.double();
    else if (t === tag(6, FIXED64)) point.value = r.sfixed64Number();
    else return false;
    return true;
  }
  if (t === tag(4, FIXED64)) point.count = r.fixed64Number();
  else if (t === tag(5, FIXED64)) point.sum = r.double();
  else if (kind === "summary") return false;
  else if (t === tag(kind === "histogram" ? 11 : 12, FIXED64)) point.min = r.double();
  else if (t === tag(kind === "histogram" ? 12 : 13, FIXED64)) point.max = r.double();
  else if (kind === "histogram") return readExplicitBuckets(r, point, t, depth);
  else return readExponentialField(r, point, t, depth);
  return true;
}

function readExplicitBuckets(r: WireReader, point: PointInput, t: number, depth: number): boolean {
  const field = t >>> 3;
  if (field === 6) r.repeated(t & 7, FIXED64, depth, field, () => point.bucketCounts.push(r.fixed64Number()));
  else if (field === 7) r.repeated(t & 7, FIXED64, depth, field, () => point.bounds.push(r.double()));
  else return false;
  return true;
}

function readExponentialField(r: WireReader, point: PointInput, t: number, depth: number): boolean {
  const exponential = point.exponential;
  if (exponential === null) return false;
  if (t === tag(6, VARINT)) exponential.scale = r.sint32();
  else if (t === tag(7, FIXED64)) exponential.zeroCount = r.fixed64Number();
  else if (t === tag(8, LENGTH)) readExponentialBuckets(r, exponential.positive, depth + 1);
  else if (t === tag(9, LENGTH)) readExponentialBuckets(r, exponential.negative, depth + 1);
  else return false;
  return true;
}

/** ExponentialHistogramDataPoint.Buckets, merged into `buckets` when the field is sent twice. */
function readExponentialBuckets(r: WireReader, buckets: ExponentialBuckets, depth: number): void {
  const outer = r.enter(depth);
  while (r.pos < r.limit) {
    const t = r.tag();
    const field = t >>> 3;
    if (t === tag(1, VARINT)) buckets.offset = r.sint32();
    else if (field === 2) r.repeated(t & 7, VARINT, depth, field, () => buckets.counts.push(r.uint64Number()));
    else r.skip(t & 7, depth, field);
  }
  r.leave(outer);
}
