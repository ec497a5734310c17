// The pre-aggregated series go out two ways: pushed every `intervalMs` as one OTLP/HTTP protobuf request
// (cumulative, like Prometheus), and served as Prometheus text at GET /stats/prometheus on the admin port. Both are
// built from the store when needed, with no SDK in between; a failed push is counted as a dropped metrics export
// (its points go again, cumulatively, with the next one).
import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeMetricsExport, encodeScope, type EncodableAttributes, type EncodedResource } from "@trellis/otlp/encode";
import { collectMetrics, METRICS_SCOPE } from "./metric-producer.ts";
import type { MetricStore } from "./metric-store.ts";
import { createOtlpPoster, EXPORT_TIMEOUT_MS } from "./otlp-exporters.ts";
import { formatPrometheusText, PROMETHEUS_CONTENT_TYPE } from "./prometheus-text.ts";

export type MetricsExport = {
  /** Answers a scrape with the Prometheus text exposition. */
  servePrometheus: (req: IncomingMessage, res: ServerResponse) => void;
  /** Stops the periodic push and pushes once more (after the one in flight, if any). */
  shutdown: () => Promise<void>;
};

export function createMetricsExport({
  resource,
  resourceAttributes,
  otlpEndpoint,
  otlpHeaders,
  intervalMs,
  store,
  now = Date.now,
}: {
  /** The resource as encoded once for every signal. */
  resource: EncodedResource;
  /** The same resource's attributes, printed as target_info. */
  resourceAttributes: EncodableAttributes;
  otlpEndpoint: string;
  otlpHeaders: Record<string, string>;
  intervalMs: number;
  store: MetricStore;
  now?: () => number;
}): MetricsExport {
  if (!(intervalMs > 0)) throw new RangeError(`metricsExportIntervalMs must be greater than 0, got ${intervalMs}`);
  const framing = { resource, scope: encodeScope(METRICS_SCOPE) };
  // A push never outlives the next tick, as the SDK's periodic reader clamped its export timeout to the interval.
  const poster = createOtlpPoster({ url: `${otlpEndpoint}/v1/metrics`, headers: otlpHeaders, timeoutMs: Math.min(intervalMs, EXPORT_TIMEOUT_MS) });
  let inFlight: Promise<void> | null = null;

  const push = (): Promise<void> => {
    // One push at a time: a tick that finds one still in flight is skipped (the next carries the same totals).
    if (inFlight !== null) return inFlight;
    let body: Uint8Array;
    try {
      const metrics = collectMetrics(store);
      if (metrics.length === 0) return Promise.resolve();
      body = encodeMetricsExport(framing, metrics, store.startTimeMs, now());
    } catch {
      // A series that cannot be encoded (a bug, not a collector problem) must not take the sidecar down.
      store.countDropped("metrics", "export_failed", 1);
      return Promise.resolve();
    }
    const pushed = new Promise<void>((resolve) =>
      poster.post(body, (error) => {
        if (error !== null) store.countDropped("metrics", "export_failed", 1);
        inFlight = null;
        resolve();
      }),
    );
    inFlight = pushed;
    return pushed;
  };

  const timer = setInterval(() => void push(), intervalMs).unref();

  return {
    servePrometheus(_req, res) {
      const text = formatPrometheusText(resourceAttributes, collectMetrics(store));
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
    async shutdown() {
      clearInterval(timer);
      await inFlight;
      await push();
      await poster.shutdown();
    },
  };
}
