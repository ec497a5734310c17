// One ingest instance: the telemetry store with its upkeep, the batcher in front of it, the export pipeline, and
// the OTLP/HTTP and OTLP/gRPC receivers that feed it. main.ts starts it from the environment; tests start it
// directly against their own database.
import { createTelemetryStore, type Database } from "@trellis/db";
import { Batcher } from "./batcher.ts";
import { createTokenCheck } from "./bearer-token.ts";
import { createExportPipeline } from "./export-pipeline.ts";
import { startGrpcReceiver } from "./grpc-receiver.ts";
import { checkHealth } from "./health.ts";
import { startHttpReceiver } from "./http-receiver.ts";
import { startStoreUpkeep } from "./store-upkeep.ts";

export type IngestOptions = {
  pool: Database["pool"];
  host: string;
  /** 0 picks a free port (tests). */
  httpPort: number;
  grpcPort: number;
  maxBodyBytes: number;
  token?: string;
  retentionDays: number;
  queueItems: number;
  writers: number;
};

export type Ingest = { httpPort: number; grpcPort: number; stop: () => Promise<void> };

export async function startIngest(options: IngestOptions): Promise<Ingest> {
  const store = createTelemetryStore(options.pool, { retentionDays: options.retentionDays });
  const batcher = new Batcher({ write: (batch) => store.write(batch), maxQueueItems: options.queueItems, writers: options.writers });
  const pipeline = createExportPipeline(batcher, store);
  const checkToken = createTokenCheck(options.token);
  const receiverOptions = { host: options.host, maxBodyBytes: options.maxBodyBytes, checkToken, pipeline };
  const upkeep = startStoreUpkeep(store);
  const health = () => checkHealth({ pool: options.pool, queuedItems: () => batcher.queuedItems, queueLimit: options.queueItems });
  const http = await startHttpReceiver({ ...receiverOptions, port: options.httpPort, checkHealth: health }).catch(async (error: unknown) => {
    await upkeep.stop();
    throw error;
  });
  const grpc = await startGrpcReceiver({ ...receiverOptions, port: options.grpcPort }).catch(async (error: unknown) => {
    await Promise.all([http.stop(), upkeep.stop()]);
    throw error;
  });
  let stopping: Promise<void> | undefined;
  return {
    httpPort: http.port,
    grpcPort: grpc.port,
    // Stop accepting, answer the requests in progress (their writes included), then stop the store's upkeep.
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all([http.stop(), grpc.stop()]);
        await batcher.drain();
        await upkeep.stop();
      })()),
  };
}
