// The format-independent half of metrics decoding: both readers produce MetricInputs; this checks each point
// (a named metric, a time, bucket counts matching the bounds) — a bad point is rejected and counted, the rest
// kept, as OTLP partial success allows — and attaches the resource's service fields.
import type { Attributes } from "../span-record.ts";
import { readService } from "../trace/to-span-records.ts";
import type { DecodedMetrics, MetricKind, MetricPointRecord, Temporality } from "./metric-record.ts";

export type PointInput = Pick<MetricPointRecord, "attributes" | "startTimeUnixNano" | "timeUnixNano" | "value" | "count" | "sum" | "min" | "max" | "bounds" | "bucketCounts" | "exponential">;

export type MetricInput = {
  /** For error messages: `resourceMetrics[r].scopeMetrics[s].metrics[m]`. */
  path: string;
  name: string;
  description: string;
  unit: string;
  kind: MetricKind | null;
  temporality: Temporality;
  monotonic: boolean;
  points: PointInput[];
};

export type ResourceMetricsInput = { resourceAttributes: Attributes; scopes: { scopeName: string; metrics: MetricInput[] }[] };

const MAX_ERRORS = 10;
const MAX_TIME_UNIX_NANO = 2n ** 63n - 1n;

export function toTemporality(value: number): Temporality {
  return value === 1 ? "delta" : value === 2 ? "cumulative" : "unspecified";
}

export function toMetricPoints(resources: readonly ResourceMetricsInput[]): DecodedMetrics {
  const result: DecodedMetrics = { points: [], rejectedDataPoints: 0, errors: [] };
  const reject = (where: string, problem: string, count = 1) => {
    result.rejectedDataPoints += count;
    if (result.errors.length < MAX_ERRORS) result.errors.push(`${where}: ${problem}`);
  };
  for (const resource of resources) {
    const service = readService(resource.resourceAttributes);
    for (const scope of resource.scopes) {
      for (const metric of scope.metrics) {
        if (metric.name === "") {
          reject(metric.path, "name is missing", Math.max(1, metric.points.length));
          continue;
        }
        if (metric.kind === null) {
          reject(metric.path, `metric "${metric.name}" has no data (expected gauge, sum, histogram, exponentialHistogram or summary)`);
          continue;
        }
        for (const [i, point] of metric.points.entries()) {
          const problem = findPointProblem(point);
          if (problem) {
            reject(`${metric.path}.dataPoints[${i}]`, problem);
            continue;
          }
          // Spelled out rather than spread: this runs per point, and spreads of shared objects are much slower.
          result.points.push({
            serviceName: service.serviceName,
            serviceNamespace: service.serviceNamespace,
            serviceVersion: service.serviceVersion,
            resourceAttributes: resource.resourceAttributes,
            scopeName: scope.scopeName,
            name: metric.name,
            description: metric.description,
            unit: metric.unit,
            kind: metric.kind,
            temporality: metric.temporality,
            monotonic: metric.monotonic,
            attributes: point.attributes,
            startTimeUnixNano: point.startTimeUnixNano,
            timeUnixNano: point.timeUnixNano,
            value: point.value,
            count: point.count,
            sum: point.sum,
            min: point.min,
            max: point.max,
            bounds: point.bounds,
            bucketCounts: point.bucketCounts,
            exponential: point.exponential,
          });
        }
      }
    }
  }
  if (result.rejectedDataPoints > result.errors.length) result.errors.push(`…and ${result.rejectedDataPoints - result.errors.length} more rejected data points`);
  return result;
}

function findPointProblem(point: PointInput): string | undefined {
  if (point.timeUnixNano === 0n) return "timeUnixNano is missing (it is required: unix time in nanoseconds)";
  if (point.timeUnixNano > MAX_TIME_UNIX_NANO || point.startTimeUnixNano > MAX_TIME_UNIX_NANO) return "times after the year 2262 are not valid";
  if (point.bucketCounts.length > 0 && point.bucketCounts.length !== point.bounds.length + 1) {
    return `bucketCounts has ${point.bucketCounts.length} entries for ${point.bounds.length} explicitBounds (expected ${point.bounds.length + 1})`;
  }
  return undefined;
}
