// One error type for every app: a code that maps to an HTTP/tRPC status in one place, and a message written
// for the person who has to act on it (what was wrong, where, how to fix it).

export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAVAILABLE"
  | "CONFIG"
  | "INTERNAL";

const httpStatusByCode: Record<AppErrorCode, number> = {
  BAD_REQUEST: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  CONFIG: 500,
  INTERNAL: 500,
};

export class AppError extends Error {
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
  }

  get httpStatus(): number {
    return httpStatusByCode[this.code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** The message a user may see: 4xx say what was wrong; 5xx stay generic (the full error goes to the log). */
export function toPublicMessage(error: unknown): string {
  if (isAppError(error) && error.httpStatus < 500) return error.message;
  if (isAppError(error) && (error.code === "UNAVAILABLE" || error.code === "CONFIG")) return error.message;
  return "internal error; see the server log";
}
