// The dashboard's and the API's read side of telemetry (and the sidecar list): one import for everything public.
export { findServiceGraph, toNodeId, type FindServiceGraphOptions, type GraphEdge, type GraphNode, type ServiceGraph } from "./find-service-graph.ts";
export { findServiceStats, type FindServiceStatsOptions, type ServiceStats, type VersionStats } from "./find-service-stats.ts";
export { findRedSeries, MAX_POINTS, type FindRedSeriesOptions, type RedPoint, type RedSeries, type RedTarget } from "./find-red-series.ts";
export { findTraces, DEFAULT_TRACE_LIMIT, type FindTracesOptions, type TraceSummary } from "./find-traces.ts";
export {
  findTrace,
  SPAN_KINDS,
  STATUS_CODES,
  type FindTraceOptions,
  type SpanEventView,
  type SpanLinkView,
  type Trace,
  type TraceSpan,
} from "./find-trace.ts";
export { findLogs, DEFAULT_LOG_LIMIT, type FindLogsOptions, type LogPage, type LogRecordView, type StatusClass } from "./find-logs.ts";
export { findSidecars, type FindSidecarsOptions, type Sidecar } from "./find-sidecars.ts";
export { PROTOCOLS, type GraphView, type Protocol } from "./read-edge-totals.ts";
export type { RedSummary } from "./red-totals.ts";
export type { TimeRangeInput } from "./query-helpers.ts";
export type { AttributeValue, Attributes } from "@trellis/otlp";
