// What GET /healthz reports: whether Postgres answers, and how full the queue is, so backpressure shows before
// exporters start getting 429s.
import type { Database } from "@trellis/db";

export type HealthReport =
  | { status: "ok"; queuedItems: number; queueLimit: number }
  | { status: "unavailable"; queuedItems: number; queueLimit: number; error: string };

export type HealthOptions = { pool: Database["pool"]; queuedItems: () => number; queueLimit: number };

export async function checkHealth({ pool, queuedItems, queueLimit }: HealthOptions): Promise<HealthReport> {
  try {
    await pool.query("SELECT 1");
    return { status: "ok", queuedItems: queuedItems(), queueLimit };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { status: "unavailable", queuedItems: queuedItems(), queueLimit, error: `Postgres is not answering: ${reason}` };
  }
}
