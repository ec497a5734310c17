// The one place errors become tRPC errors: AppError codes map to tRPC codes, invalid input says which field and
// why, and anything else (a 5xx) reaches the user as a generic message while the full error goes to the log.
import { TRPCError } from "@trpc/server";
import { isAppError, toPublicMessage, type AppErrorCode } from "@trellis/runtime";

type TRPCCode = TRPCError["code"];

const trpcCodeByAppCode: Record<AppErrorCode, TRPCCode> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  CONFIG: "INTERNAL_SERVER_ERROR",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

export type ErrorLogger = (message: string, error: unknown) => void;

const logToConsole: ErrorLogger = (message, error) => console.error(message, error);

type Issue = { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] };

function readIssues(error: unknown): Issue[] | null {
  const issues = (error as { issues?: unknown } | null)?.issues;
  return Array.isArray(issues) && issues.length > 0 ? (issues as Issue[]) : null;
}

function describeIssues(issues: Issue[]): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part)).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/**
 * Turns anything a procedure (or context creation) threw into the TRPCError the client sees. `where` names the
 * procedure in the log line.
 */
export function toTRPCError(error: unknown, where: string, log: ErrorLogger = logToConsole): TRPCError {
  const cause = error instanceof TRPCError && error.cause !== undefined ? error.cause : error;
  if (isAppError(cause)) {
    const code = trpcCodeByAppCode[cause.code];
    if (cause.httpStatus >= 500) log(`${where}: ${cause.code}`, cause);
    return new TRPCError({ code, message: toPublicMessage(cause), cause });
  }
  // tRPC wraps failed input validation as BAD_REQUEST with the schema's issues as the cause.
  if (error instanceof TRPCError && error.code === "BAD_REQUEST") {
    const issues = readIssues(cause);
    return issues ? new TRPCError({ code: "BAD_REQUEST", message: `invalid input: ${describeIssues(issues)}`, cause }) : error;
  }
  if (error instanceof TRPCError && error.code !== "INTERNAL_SERVER_ERROR") return error;
  log(`${where}: internal error`, error);
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: toPublicMessage(cause), cause });
}
