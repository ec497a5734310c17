// What the dashboard's queries share: the window they look back over (ending "now", rejected when it would make
// rates meaningless), and turning Postgres numerics into plain numbers.
import type pg from "pg";
import { AppError } from "@trellis/runtime";

export type TimeWindow = { from: Date; to: Date; seconds: number };

export function resolveTimeWindow({ windowSeconds, now = new Date() }: { windowSeconds: number; now?: Date }): TimeWindow {
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new AppError("BAD_REQUEST", `windowSeconds must be a positive number of seconds, got ${windowSeconds}`);
  }
  return { from: new Date(now.getTime() - windowSeconds * 1000), to: now, seconds: windowSeconds };
}

/**
 * The part of the window that telemetry covers. Right after the first start (or after retention) the store holds
 * less than the window; dividing by the full window would show a fresh 10 rps service as 2 rps for five minutes.
 * Rates are per second of *observed* time: from the later of the window start and the oldest stored span.
 */
export async function resolveObservedWindow(
  pool: pg.Pool,
  { windowSeconds, now = new Date() }: { windowSeconds: number; now?: Date },
): Promise<TimeWindow> {
  const window = resolveTimeWindow({ windowSeconds, now });
  const { rows } = await pool.query<{ earliest: Date | null }>("SELECT min(start_time) AS earliest FROM spans");
  const earliest = rows[0]?.earliest;
  if (!earliest || earliest <= window.from) return window;
  const seconds = Math.max(1, (window.to.getTime() - earliest.getTime()) / 1000);
  return { ...window, seconds: Math.min(seconds, window.seconds) };
}

/** Rates and ratios come back from Postgres as numeric strings or doubles; this keeps them as plain numbers. */
export function toNumber(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value);
}

export function nsToMs(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return toNumber(value) / 1e6;
}

/** Code-point order, so results sort the same whatever the database collation. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
