// Istio's metrics aggregated in place: one series per label set, found by a cheap string key, with counters and
// fixed-bucket histograms as plain numbers. Measured (bench/sidecar-telemetry/sdk-attribute-cost.ts): the
// OpenTelemetry SDK spends ~20 µs per request hashing Istio's ~20 labels for four instruments, over the whole
// telemetry budget; here a request costs a comparison with the previous request's label fields (or, when its
// series differs, one string concatenation and one Map lookup) and a few additions.
// metric-producer.ts reads these series as cumulative metrics when a push or a scrape needs them.
import type { ClusterEvent, RequestRecord, TcpRecord } from "./records.ts";
import { buildRequestLabels, buildTcpLabels, requestSeriesKey, sameRequestSeries, tcpSeriesKey, type MetricLabels } from "./labels.ts";

/**
 * Envoy's default histogram buckets, which Istio uses for every istio_* histogram — durations in ms and sizes in
 * bytes alike (istio_request_bytes shows le="0.5" … le="3600000" in istio/istio#20536 and #22007).
 */
export const ISTIO_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** Beyond this many series per metric family new label sets are not recorded (and counted as dropped). */
export const MAX_SERIES = 5_000;

export type HistogramState = { counts: number[]; sum: number; count: number; min: number; max: number };

export type RequestSeries = {
  labels: MetricLabels;
  requests: number;
  duration: HistogramState;
  requestBytes: HistogramState;
  responseBytes: HistogramState;
};

export type TcpSeries = { labels: MetricLabels; opened: number; closed: number; sent: number; received: number };

export type ClusterSeries = { cluster: string; event: ClusterEvent; count: number };

/** Why a telemetry item was lost: the export queue was full, the exporter failed, or too many series. */
export type DropReason = "queue_full" | "export_failed" | "series_limit";
export type TelemetrySignal = "spans" | "logs" | "metrics";

export type MetricStore = {
  recordRequest: (record: RequestRecord) => void;
  recordTcp: (record: TcpRecord) => void;
  recordClusterEvent: (cluster: string, event: ClusterEvent) => void;
  countDropped: (signal: TelemetrySignal, reason: DropReason, count: number) => void;
  requestSeries: () => Iterable<RequestSeries>;
  tcpSeries: () => Iterable<TcpSeries>;
  clusterSeries: () => Iterable<ClusterSeries>;
  /** `${signal}|${reason}` → count. */
  dropped: () => ReadonlyMap<string, number>;
  /** Epoch ms when counting began: the start time of every cumulative point. */
  startTimeMs: number;
};

export function createHistogram(): HistogramState {
  return { counts: new Array<number>(ISTIO_BUCKETS.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity };
}

/** Prometheus buckets are upper-inclusive (le): a value equal to a boundary counts in that bucket. */
export function observe(histogram: HistogramState, value: number): void {
  let i = 0;
  while (i < ISTIO_BUCKETS.length && value > (ISTIO_BUCKETS[i] ?? Infinity)) i += 1;
  histogram.counts[i] = (histogram.counts[i] ?? 0) + 1;
  histogram.sum += value;
  histogram.count += 1;
  if (value < histogram.min) histogram.min = value;
  if (value > histogram.max) histogram.max = value;
}

/** A keyed family of series; different keys that label the same way share one series, so no duplicates are exported. */
function createFamily<R, S extends { labels: MetricLabels }>(
  keyOf: (record: R) => string,
  labelsOf: (record: R) => MetricLabels,
  makeSeries: (labels: MetricLabels) => S,
  onLimit: () => void,
  /** Whether two records label the same way (compared in place, without their keys). */
  same?: (a: R, b: R) => boolean,
) {
  const byKey = new Map<string, S>();
  const byLabels = new Map<string, S>();
  // The last record found and its series: the next request is mostly in the same one.
  let last: { record: R; series: S } | null = null;
  const findByKey = (record: R): S | null => {
    const key = keyOf(record);
    const hit = byKey.get(key);
    if (hit !== undefined) return hit;
    const labels = labelsOf(record);
    const labelKey = Object.values(labels).join("\u0001");
    let series = byLabels.get(labelKey);
    if (series === undefined) {
      if (byLabels.size >= MAX_SERIES) {
        onLimit();
        return null;
      }
      series = makeSeries(labels);
      byLabels.set(labelKey, series);
    }
    byKey.set(key, series);
    return series;
  };
  return {
    find(record: R): S | null {
      if (same !== undefined && last !== null && same(record, last.record)) return last.series;
      const series = findByKey(record);
      if (series !== null) last = { record, series };
      return series;
    },
    values: () => byLabels.values(),
  };
}

export function createMetricStore(now: () => number = Date.now): MetricStore {
  const dropped = new Map<string, number>();
  const countDropped = (signal: TelemetrySignal, reason: DropReason, count: number) => {
    const key = `${signal}|${reason}`;
    dropped.set(key, (dropped.get(key) ?? 0) + count);
  };
  const requests = createFamily<RequestRecord, RequestSeries>(
    requestSeriesKey,
    buildRequestLabels,
    (labels) => ({ labels, requests: 0, duration: createHistogram(), requestBytes: createHistogram(), responseBytes: createHistogram() }),
    () => countDropped("metrics", "series_limit", 1),
    sameRequestSeries,
  );
  const tcp = createFamily<TcpRecord, TcpSeries>(
    tcpSeriesKey,
    buildTcpLabels,
    (labels) => ({ labels, opened: 0, closed: 0, sent: 0, received: 0 }),
    () => countDropped("metrics", "series_limit", 1),
  );
  const clusters = new Map<string, ClusterSeries>();

  return {
    startTimeMs: now(),
    recordRequest(record) {
      const series = requests.find(record);
      if (series === null) return;
      series.requests += 1;
      observe(series.duration, record.durationMs);
      observe(series.requestBytes, record.requestBytes);
      observe(series.responseBytes, record.responseBytes);
    },
    recordTcp(record) {
      const series = tcp.find(record);
      if (series === null) return;
      // One record per finished connection: it was opened and is now closed.
      series.opened += 1;
      series.closed += 1;
      series.sent += record.sentBytes;
      series.received += record.receivedBytes;
    },
    recordClusterEvent(cluster, event) {
      const key = `${cluster}\u0001${event}`;
      const series = clusters.get(key);
      if (series !== undefined) {
        series.count += 1;
        return;
      }
      if (clusters.size >= MAX_SERIES) return countDropped("metrics", "series_limit", 1);
      clusters.set(key, { cluster, event, count: 1 });
    },
    countDropped,
    requestSeries: () => requests.values(),
    tcpSeries: () => tcp.values(),
    clusterSeries: () => clusters.values(),
    dropped: () => dropped,
  };
}
