// The access log's pipeline: an OTLP/HTTP protobuf exporter to `${otlpEndpoint}/v1/logs` behind a batch processor
// whose queue is bounded and whose drops are counted (drop-counting.ts).
import type { Logger } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import type { Resource } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { countLogExports, createQueueGauge, guardLogProcessor, type OnDrop } from "./drop-counting.ts";

export const LOG_QUEUE_SIZE = 8_192;

export type AccessLogger = { logger: Logger; shutdown: () => Promise<void> };

export function createAccessLogger({ resource, otlpEndpoint, onDrop, queueSize = LOG_QUEUE_SIZE }: { resource: Resource; otlpEndpoint: string; onDrop: OnDrop; queueSize?: number }): AccessLogger {
  const gauge = createQueueGauge(queueSize, onDrop);
  const exporter = countLogExports(new OTLPLogExporter({ url: `${otlpEndpoint}/v1/logs` }), gauge, onDrop);
  const batch = new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: queueSize, maxExportBatchSize: 512 });
  const provider = new LoggerProvider({ resource, processors: [guardLogProcessor(batch, gauge)] });
  return { logger: provider.getLogger("@trellis/sidecar/access-log"), shutdown: () => provider.shutdown() };
}
