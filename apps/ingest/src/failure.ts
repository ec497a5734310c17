// Every error an export can end in, mapped once to what both transports need: the HTTP status, the gRPC status
// code (the same numbers as google.rpc.Code, which OTLP/HTTP puts in its Status body), the message the client may
// see and, for retryable refusals, the delay to retry after.
import { AppError, isAppError, toPublicMessage, type AppErrorCode } from "@trellis/runtime";
import { RetryLaterError } from "./retry-later.ts";

export type Failure = { httpStatus: number; rpcCode: number; message: string; retryAfterSeconds?: number };

/** google.rpc.Code / gRPC status for each error code. */
export const RPC_CODES: Record<AppErrorCode, number> = {
  BAD_REQUEST: 3, // INVALID_ARGUMENT
  UNSUPPORTED_MEDIA_TYPE: 3,
  PAYLOAD_TOO_LARGE: 8, // RESOURCE_EXHAUSTED
  NOT_FOUND: 5,
  CONFLICT: 6, // ALREADY_EXISTS
  UNAVAILABLE: 14,
  CONFIG: 13, // INTERNAL
  INTERNAL: 13,
};

export const RPC_UNAUTHENTICATED = 16;

/** `where` names the request in the log ("POST /v1/traces", "gRPC TraceService/Export"). */
export function toFailure(error: unknown, where: string): Failure {
  // Store failures are logged once per write by the batcher; what is not an AppError here is a bug.
  if (!isAppError(error)) console.error(`ingest: ${where} failed unexpectedly:`, error);
  const appError = isAppError(error) ? error : new AppError("INTERNAL", "unexpected error", { cause: error });
  const failure: Failure = { httpStatus: appError.httpStatus, rpcCode: RPC_CODES[appError.code], message: toPublicMessage(appError) };
  return appError instanceof RetryLaterError ? { ...failure, retryAfterSeconds: appError.retryAfterSeconds } : failure;
}
