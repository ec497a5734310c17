// Test fixtures: metrics made by the OpenTelemetry JS SDK (read on demand), for checking decoding against the
// official serializers.
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationType, MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";

class ManualReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A counter, an explicit and an exponential histogram, a gauge and an up-down counter, as the SDK collects them. */
export async function makeSdkMetrics(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const resource = resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "1.2.0" });
  const views = [{ instrumentName: "request_size_bytes", aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 20 } } } as const];
  const meter = new MeterProvider({ resource, readers: [reader], views }).getMeter("test-scope");
  const labels = { reporter: "source", response_code: "200" };
  meter.createCounter("istio_requests_total").add(3, labels);
  const histogram = meter.createHistogram("istio_request_duration_milliseconds", { unit: "ms", advice: { explicitBucketBoundaries: [1, 5, 10] } });
  for (const value of [0.5, 4, 7, 100]) histogram.record(value, labels);
  meter.createGauge("queue_depth").record(-2.5, { queue: "spans" });
  meter.createUpDownCounter("in_flight", { valueType: 1 }).add(-4);
  const sizes = meter.createHistogram("request_size_bytes", { unit: "By" });
  for (const value of [0, 3, 17, 250, 4096, 4100]) sizes.record(value, labels);
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics;
}
