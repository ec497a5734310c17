// OTLP/gRPC on :4317: the trace, metrics and logs collector services, declared by hand with raw-bytes
// (de)serializers, so request bytes go to the same export pipeline as OTLP/HTTP protobuf bodies. This file only
// maps results and errors to gRPC statuses; messages over the size limit are refused by grpc-js itself
// (RESOURCE_EXHAUSTED), before any of this runs.
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from "@grpc/grpc-js";
import { encodeExportResponse, type OtlpSignal } from "@trellis/otlp";
import { AppError } from "@trellis/runtime";
import type { TokenCheck } from "./bearer-token.ts";
import type { ExportPipeline } from "./export-pipeline.ts";
import { toFailure } from "./failure.ts";
import type { Receiver } from "./http-receiver.ts";

export type GrpcReceiverOptions = {
  host: string;
  port: number;
  maxBodyBytes: number;
  checkToken: TokenCheck;
  pipeline: ExportPipeline;
};

const SERVICES: Record<OtlpSignal, string> = {
  traces: "opentelemetry.proto.collector.trace.v1.TraceService",
  metrics: "opentelemetry.proto.collector.metrics.v1.MetricsService",
  logs: "opentelemetry.proto.collector.logs.v1.LogsService",
};

/** How long shutdown waits for calls in progress (their writes included) before cutting them off. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function startGrpcReceiver(options: GrpcReceiverOptions): Promise<Receiver> {
  const server = new Server({ "grpc.max_receive_message_length": options.maxBodyBytes });
  for (const signal of Object.keys(SERVICES) as OtlpSignal[]) {
    server.addService(exportService(signal), { Export: handleExport(signal, options) });
  }
  const port = await bind(server, options);
  return { port, stop: () => shutdown(server) };
}

/** The Export method with bytes in and bytes out: decoding is @trellis/otlp's job, not protobufjs's. */
function exportService(signal: OtlpSignal): ServiceDefinition {
  const bytes = (buffer: Buffer) => buffer;
  return {
    Export: {
      path: `/${SERVICES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: (body: Uint8Array) => Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      responseDeserialize: bytes,
    },
  };
}

function handleExport(signal: OtlpSignal, { checkToken, pipeline }: GrpcReceiverOptions) {
  return (call: ServerUnaryCall<Buffer, Uint8Array>, callback: sendUnaryData<Uint8Array>) => {
    const [authorization] = call.metadata.get("authorization");
    const unauthorized = checkToken(typeof authorization === "string" ? authorization : undefined);
    if (unauthorized) {
      callback({ code: status.UNAUTHENTICATED, details: unauthorized });
      return;
    }
    pipeline(signal, call.request, "protobuf").then(
      (outcome) => callback(null, encodeExportResponse(signal, "protobuf", outcome)),
      (error: unknown) => {
        // google.rpc.Code and gRPC status codes are the same numbers.
        const failure = toFailure(error, `gRPC ${SERVICES[signal]}/Export`);
        callback({ code: failure.rpcCode, details: failure.message });
      },
    );
  };
}

function bind(server: Server, { host, port }: GrpcReceiverOptions): Promise<number> {
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (!error) return resolve(boundPort);
      if (/EADDRINUSE/.test(error.message)) {
        return reject(new AppError("CONFIG", `port ${port} (OTLP/gRPC ingest) is already in use on ${host}; stop what holds it or set TRELLIS_INGEST_GRPC_PORT to another port`));
      }
      reject(new AppError("CONFIG", `OTLP/gRPC ingest could not listen on ${address} (TRELLIS_INGEST_HOST, TRELLIS_INGEST_GRPC_PORT): ${error.message}`, { cause: error }));
    });
  });
}

/** Refuses new calls at once and resolves when the calls in progress have been answered. */
function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
