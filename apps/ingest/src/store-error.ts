// Whether a failed write is worth retrying decides the status: 503 makes OTLP exporters retry the batch,
// 500 makes them drop it. A server that rejected the data itself will reject it again; anything about
// reaching, authenticating to or overloading Postgres is transient.
import { AppError } from "@trellis/runtime";
import { RetryLaterError } from "./retry-later.ts";

/** SQLSTATE classes that describe the server's state, not the data (connection, auth, missing database, overload, shutdown). */
const TRANSIENT_SQLSTATE_CLASSES = new Set(["08", "28", "3D", "40", "53", "55", "57", "58"]);

/** Long enough for a Postgres restart, short enough that exporters' buffers do not overflow meanwhile. */
const STORE_RETRY_AFTER_SECONDS = 5;

export function toStoreError(error: unknown): AppError {
  const code = (error as { code?: unknown } | null)?.code;
  const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlState !== undefined && !TRANSIENT_SQLSTATE_CLASSES.has(sqlState.slice(0, 2))) {
    return new AppError("INTERNAL", `storing telemetry failed (SQLSTATE ${sqlState})`, { cause: error });
  }
  // No SQLSTATE: the driver never got an answer (refused, reset, pool timeout), so the database is unavailable.
  return new RetryLaterError("the telemetry store (Postgres) is unavailable; retry later", {
    httpStatus: 503,
    retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
    cause: error,
  });
}
