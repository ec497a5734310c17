// Turns a failed Postgres connection into one actionable line (which server, why, what to change) instead of
// a driver stack trace.
import { AppError } from "@trellis/runtime";

const hints: Record<string, string> = {
  ECONNREFUSED: "connection refused (is Postgres running there?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name could not be resolved",
  ETIMEDOUT: "connection timed out",
  "28P01": "password authentication failed",
  "28000": "the server rejected this user or host (pg_hba.conf)",
  "3D000": "the database does not exist",
};

export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

export function toConnectionError(error: unknown, url: string, source: string): AppError {
  const code = (error as { code?: string } | null)?.code ?? "";
  const reason = hints[code] ?? (error instanceof Error ? error.message : String(error));
  return new AppError(
    "UNAVAILABLE",
    `cannot reach Postgres at ${describeDatabaseUrl(url)} (from ${source}): ${reason}. Fix ${source}, or unset DATABASE_URL to use the embedded Postgres.`,
    { cause: error },
  );
}
