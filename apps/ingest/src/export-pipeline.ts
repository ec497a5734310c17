// The one path every export takes, whatever the transport: decode the body into records (invalid items are
// counted and left out, not fatal), hand them to the batcher, and answer once they are committed, with the count
// of everything left out (invalid, or refused by the store for its timestamp) for partial_success. The HTTP and
// gRPC receivers only map its outcome and its errors to their own status codes.
import type { TelemetryBatch, TelemetryStore } from "@trellis/db";
import { decodeLogsRequest, decodeMetricsRequest, decodeTraceRequest, type ExportPartialSuccess, type OtlpFormat, type OtlpSignal } from "@trellis/otlp";
import { countItems, type Batcher } from "./batcher.ts";

/** Resolves once the request's items are committed, with what was left out of it (the response's partial_success). */
export type ExportPipeline = (signal: OtlpSignal, body: Uint8Array, format: OtlpFormat) => Promise<ExportPartialSuccess>;

type Decoded = { batch: TelemetryBatch; rejected: number; errors: string[] };

/** Decoders throw AppError("BAD_REQUEST") naming what failed when a body cannot be decoded at all. */
const DECODERS: Record<OtlpSignal, (body: Uint8Array, format: OtlpFormat) => Decoded> = {
  traces: (body, format) => {
    const { spans, rejectedSpans, errors } = decodeTraceRequest(body, format);
    return { batch: { spans, logs: [], metricPoints: [] }, rejected: rejectedSpans, errors };
  },
  metrics: (body, format) => {
    const { points, rejectedDataPoints, errors } = decodeMetricsRequest(body, format);
    return { batch: { spans: [], logs: [], metricPoints: points }, rejected: rejectedDataPoints, errors };
  },
  logs: (body, format) => {
    const { logs, rejectedLogRecords, errors } = decodeLogsRequest(body, format);
    return { batch: { spans: [], logs, metricPoints: [] }, rejected: rejectedLogRecords, errors };
  },
};

export function createExportPipeline(batcher: Pick<Batcher, "submit">, store: Pick<TelemetryStore, "inStoredRange">): ExportPipeline {
  return async (signal, body, format) => {
    const decoded = DECODERS[signal](body, format);
    // Items stamped outside the stored time range are refused, and reported like invalid ones.
    const { batch, outOfRange } = store.inStoredRange(decoded.batch);
    if (countItems(batch) > 0) await batcher.submit(batch);
    const refused = outOfRange.spans + outOfRange.logs + outOfRange.metricPoints;
    return { rejected: decoded.rejected + refused, errorMessage: [...decoded.errors, ...outOfRange.messages].join("; ") };
  };
}
