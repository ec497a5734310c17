export { ServiceGraph, type ServiceGraphProps, type ServiceGraphNode, type ServiceGraphEdge } from "./service-graph/service-graph.tsx";
export { GraphLegend } from "./service-graph/graph-legend.tsx";
export { layoutLayeredGraph, edgeKey, type GraphLayout, type LayoutEdge, type LayoutOptions, type PositionedNode } from "./service-graph/layout.ts";
export { classifyErrorRate, errorLevelColors, WARNING_ERROR_RATE, CRITICAL_ERROR_RATE, type ErrorLevel } from "./error-level.ts";
export { formatRate, formatPercent, formatMs } from "./format.ts";
