// A bare OTLP/gRPC client for tests: sends bytes as they are to one of ingest's Export methods and returns the
// raw answer (response bytes, or the gRPC status), so tests see exactly what the wire carries.
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";

export const EXPORT_PATHS = {
  traces: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
  metrics: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
  logs: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
} as const;

export type GrpcAnswer = { response: Buffer; error?: undefined } | { response?: undefined; error: ServiceError };

/** `address` is host:port. */
export function callExport(address: string, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<GrpcAnswer> {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  const bytes = (buffer: Buffer) => buffer;
  return new Promise<GrpcAnswer>((resolve) => {
    client.makeUnaryRequest<Buffer, Buffer>(path, bytes, bytes, Buffer.from(body), metadata, (error, response) => {
      resolve(error ? { error } : { response: response ?? Buffer.alloc(0) });
    });
  }).finally(() => client.close());
}
