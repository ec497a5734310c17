// The access log's pipeline: an OTLP/HTTP protobuf exporter to `${otlpEndpoint}/v1/logs` (hand-written encoder,
// otlp-exporters.ts) behind a batch processor whose queue is bounded and whose drops are counted (drop-counting.ts).
import type { Logger } from "@opentelemetry/api-logs";
import type { Resource } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { countLogExports, createQueueGauge, guardLogProcessor, type OnDrop } from "./drop-counting.ts";
import { createLogExporter } from "./otlp-exporters.ts";

export const LOG_QUEUE_SIZE = 8_192;
/** Records per export, as for spans (traces.ts): small batches keep each encode short. */
export const LOG_BATCH_SIZE = 256;
const LOGGER_NAME = "@trellis/sidecar/access-log";

export type AccessLogger = { logger: Logger; shutdown: () => Promise<void> };

export function createAccessLogger({
  resource,
  otlpEndpoint,
  otlpHeaders,
  onDrop,
  queueSize = LOG_QUEUE_SIZE,
}: {
  resource: Resource;
  otlpEndpoint: string;
  otlpHeaders: Record<string, string>;
  onDrop: OnDrop;
  queueSize?: number;
}): AccessLogger {
  const gauge = createQueueGauge(queueSize, onDrop);
  const exporter = countLogExports(createLogExporter({ url: `${otlpEndpoint}/v1/logs`, headers: otlpHeaders, resource, scopeName: LOGGER_NAME }), gauge, onDrop);
  const batch = new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: queueSize, maxExportBatchSize: LOG_BATCH_SIZE });
  const provider = new LoggerProvider({ resource, processors: [guardLogProcessor(batch, gauge)] });
  return { logger: provider.getLogger(LOGGER_NAME), shutdown: () => provider.shutdown() };
}
