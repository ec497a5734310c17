// The refusals an exporter should retry: 503 while the store (Postgres) is unavailable, 429 while the queue is
// full. Over gRPC both are UNAVAILABLE, the code the OTLP spec marks retryable; over HTTP both carry Retry-After,
// which paces the exporters instead of letting them hammer a receiver that cannot take more yet.
import { AppError } from "@trellis/runtime";

export type RetryLaterOptions = { httpStatus: 429 | 503; retryAfterSeconds: number; cause?: unknown };

export class RetryLaterError extends AppError {
  readonly retryAfterSeconds: number;
  private readonly status: 429 | 503;

  constructor(message: string, { httpStatus, retryAfterSeconds, cause }: RetryLaterOptions) {
    super("UNAVAILABLE", message, { cause });
    this.name = "RetryLaterError";
    this.status = httpStatus;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  override get httpStatus(): number {
    return this.status;
  }
}
