// GET /stats/prometheus: the exported metrics in Prometheus' text exposition format 0.0.4, line for line what the
// OpenTelemetry PrometheusExporter (without scope labels) printed before, so scrapers and dashboards see no change:
// target_info with the resource, then per metric # HELP, # UNIT (a comment 0.0.4 parsers skip), # TYPE, and its
// samples — counters as they are named (all end in _total), histograms as _count, _sum and cumulative _bucket{le}.
import type { EncodableAttributes, EncodableMetric } from "@trellis/otlp/encode";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names and metric names may only hold [a-zA-Z0-9_]; OpenTelemetry's dots and dashes become underscores. */
function sanitizeName(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, "_").replace(/_{2,}/g, "_");
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Label values also escape the double quote. */
function escapeLabelValue(value: string): string {
  return escapeHelp(value).replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** `name="value",…` without braces, so a histogram's buckets can append le. Non-string values as JSON, as the SDK did. */
function formatLabels(labels: EncodableAttributes): string {
  let text = "";
  for (const name of Object.keys(labels)) {
    const value = labels[name];
    const written = typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);
    text += `${text === "" ? "" : ","}${sanitizeName(name)}="${escapeLabelValue(written)}"`;
  }
  return text;
}

function sample(name: string, labels: string, value: number): string {
  return `${name}${labels === "" ? "" : `{${labels}}`} ${formatValue(value)}\n`;
}

function formatMetric(metric: EncodableMetric): string {
  let name = sanitizeName(metric.name);
  if (metric.kind === "sum" && !name.endsWith("_total")) name += "_total";
  let text = `# HELP ${name} ${escapeHelp(metric.description || "description missing")}\n`;
  if (metric.unit !== "") text += `# UNIT ${name} ${escapeHelp(metric.unit)}\n`;
  text += `# TYPE ${name} ${metric.kind === "sum" ? "counter" : "histogram"}\n`;
  if (metric.kind === "sum") {
    for (const point of metric.points) text += sample(name, formatLabels(point.attributes), point.value);
    return text;
  }
  for (const point of metric.points) {
    // Rendered once per series, shared by its _count, _sum and ~20 _bucket lines.
    const labels = formatLabels(point.attributes);
    const withLe = labels === "" ? "le=" : `${labels},le=`;
    text += sample(`${name}_count`, labels, point.count);
    text += sample(`${name}_sum`, labels, point.sum);
    let cumulative = 0;
    for (let i = 0; i < point.counts.length; i += 1) {
      cumulative += point.counts[i] ?? 0;
      const bound = metric.bounds[i];
      text += sample(`${name}_bucket`, `${withLe}"${bound === undefined ? "+Inf" : formatValue(bound)}"`, cumulative);
    }
  }
  return text;
}

/** The whole exposition: target_info (the resource's attributes as labels), then each metric in order. */
export function formatPrometheusText(resource: EncodableAttributes, metrics: readonly EncodableMetric[]): string {
  let text = `# HELP target_info Target metadata\n# TYPE target_info gauge\n${sample("target_info", formatLabels(resource), 1)}`;
  for (const metric of metrics) text += formatMetric(metric);
  return text;
}
