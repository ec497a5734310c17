// GET /stats on the admin port: the counters as Envoy prints them (`name: value`, sorted), or Envoy's
// `{"stats":[{"name","value"}]}` with ?format=json — for people and scripts; dashboards scrape /stats/prometheus.
import type { ClusterEvent } from "./records.ts";
import type { MetricStore } from "./metric-store.ts";

/** Envoy's counter name for each cluster event (cluster.<name>.<stat>). */
export const ENVOY_CLUSTER_STAT: Readonly<Record<ClusterEvent, string>> = {
  retry: "upstream_rq_retry",
  retry_success: "upstream_rq_retry_success",
  retry_overflow: "upstream_rq_retry_overflow",
  retry_limit_exceeded: "upstream_rq_retry_limit_exceeded",
  per_try_timeout: "upstream_rq_per_try_timeout",
  overflow_pending: "upstream_rq_pending_overflow",
  overflow_requests: "upstream_rq_overflow",
  overflow_connections: "upstream_cx_overflow",
  outlier_ejected: "outlier_detection.ejections_enforced_total",
  outlier_returned: "outlier_detection.ejections_returned_total",
  mirror: "upstream_rq_mirror",
};

export type Stat = { name: string; value: number };

function add(stats: Map<string, number>, name: string, value: number): void {
  stats.set(name, (stats.get(name) ?? 0) + value);
}

/** The process' memory, as process.memoryUsage() gives it (bytes). */
export type ProcessMemory = { rss: number; heapTotal: number; heapUsed: number };

/**
 * Envoy-style names: `http.<inbound|outbound>.downstream_rq_<class>`, `cluster.<name>.<stat>`, `tcp.*`, `telemetry.*`,
 * and Envoy's memory gauges: `server.memory_allocated` (JS heap in use), `server.memory_heap_size` (JS heap reserved)
 * and `server.memory_physical_size` (the process' resident set).
 */
export function collectStats(store: MetricStore, memory: ProcessMemory): Stat[] {
  const stats = new Map<string, number>([
    ["server.memory_allocated", memory.heapUsed],
    ["server.memory_heap_size", memory.heapTotal],
    ["server.memory_physical_size", memory.rss],
  ]);
  for (const series of store.requestSeries()) {
    const prefix = `http.${series.labels.reporter === "source" ? "outbound" : "inbound"}`;
    const code = series.labels.response_code ?? "0";
    add(stats, `${prefix}.downstream_rq_total`, series.requests);
    add(stats, `${prefix}.downstream_rq_${code === "0" ? "no_response" : `${code.charAt(0)}xx`}`, series.requests);
    for (const flag of (series.labels.response_flags ?? "-").split(",")) {
      if (flag !== "-") add(stats, `${prefix}.response_flags.${flag}`, series.requests);
    }
  }
  for (const series of store.tcpSeries()) {
    const prefix = `tcp.${series.labels.reporter === "source" ? "outbound" : "inbound"}`;
    add(stats, `${prefix}.downstream_cx_total`, series.opened);
    add(stats, `${prefix}.downstream_cx_tx_bytes_total`, series.sent);
    add(stats, `${prefix}.downstream_cx_rx_bytes_total`, series.received);
  }
  for (const series of store.clusterSeries()) add(stats, `cluster.${series.cluster}.${ENVOY_CLUSTER_STAT[series.event]}`, series.count);
  for (const signal of ["spans", "logs", "metrics"] as const) add(stats, `telemetry.${signal}.dropped`, 0);
  for (const [key, count] of store.dropped()) {
    const [signal = "", reason = ""] = key.split("|");
    add(stats, `telemetry.${signal}.dropped`, count);
    add(stats, `telemetry.${signal}.dropped.${reason}`, count);
  }
  return [...stats].map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function formatStatsText(stats: readonly Stat[]): string {
  return stats.map((stat) => `${stat.name}: ${stat.value}\n`).join("");
}
