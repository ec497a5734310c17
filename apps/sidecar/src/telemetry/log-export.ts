// The access log's way out: each request's or TCP connection's record is written straight from its RequestRecord /
// TcpRecord into the pending OTLP logs batch (the Istio text line as body, the attributes access-log.ts visits,
// the request span's trace and span ids), which export-queue.ts seals and POSTs to `${otlpEndpoint}/v1/logs`.
import { beginLogRecord, encodeScope, finishLogRecord, startLogsBatch, type EncodedResource, type RecordBatch } from "@trellis/otlp/encode";
import { formatRequestLine, formatTcpLine, INFO, severityOf, visitRequestAttributes, visitTcpAttributes, WARN } from "./access-log.ts";
import { createExportQueue, type OnDrop } from "./export-queue.ts";
import { createOtlpPoster } from "./otlp-exporters.ts";
import type { RequestRecord, TcpRecord } from "./records.ts";

/** Records that may wait for export (pending or sealed); beyond that they are dropped and counted. */
export const LOG_QUEUE_SIZE = 8_192;
/** Records per export request (~530 KB): 512 for the reasons SPAN_BATCH_SIZE gives. */
export const LOG_BATCH_SIZE = 512;
export const LOGGER_NAME = "@trellis/sidecar/access-log";

/** One request's access-log record, linked to the span the sidecar made for it. */
export function writeRequestLog(batch: RecordBatch, r: RequestRecord): void {
  const severity = severityOf(r.status);
  const at = beginLogRecord(batch, r.startTimeMs, severity.severityNumber, severity.severityText, formatRequestLine(r));
  visitRequestAttributes(r, batch);
  const context = r.spanContext;
  if (context === null || context === undefined) finishLogRecord(batch, at, null, "", 0, Date.now());
  else finishLogRecord(batch, at, context.traceId, context.spanId, context.sampled ? 1 : 0, Date.now());
}

/** One TCP connection's record: WARN when the proxy flagged it (UF, UC, DC…), like a 5xx for HTTP. */
export function writeTcpLog(batch: RecordBatch, r: TcpRecord): void {
  const severity = r.flags.length > 0 ? WARN : INFO;
  const at = beginLogRecord(batch, r.startTimeMs, severity.severityNumber, severity.severityText, formatTcpLine(r));
  visitTcpAttributes(r, batch);
  finishLogRecord(batch, at, null, "", 0, Date.now());
}

export type AccessLog = {
  recordRequest: (record: RequestRecord) => void;
  recordTcp: (record: TcpRecord) => void;
  shutdown: () => Promise<void>;
};

export function createAccessLog({
  resource,
  otlpEndpoint,
  otlpHeaders,
  onDrop,
}: {
  resource: EncodedResource;
  otlpEndpoint: string;
  otlpHeaders: Record<string, string>;
  onDrop: OnDrop;
}): AccessLog {
  const framing = { resource, scope: encodeScope(LOGGER_NAME) };
  const queue = createExportQueue({
    poster: createOtlpPoster({ url: `${otlpEndpoint}/v1/logs`, headers: otlpHeaders }),
    startBatch: (expectedBytes, reuse) => startLogsBatch(framing, expectedBytes, reuse),
    onDrop,
    capacity: LOG_QUEUE_SIZE,
    batchSize: LOG_BATCH_SIZE,
  });
  return {
    recordRequest: (record) => queue.append(writeRequestLog, record),
    recordTcp: (record) => queue.append(writeTcpLog, record),
    shutdown: queue.shutdown,
  };
}
