// What the dashboard's queries share: the window they look back over (ending "now", rejected when it would make
// rates meaningless), and turning Postgres numerics into plain numbers.
import { AppError } from "@trellis/runtime";

export type TimeWindow = { from: Date; to: Date; seconds: number };

export function resolveTimeWindow({ windowSeconds, now = new Date() }: { windowSeconds: number; now?: Date }): TimeWindow {
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new AppError("BAD_REQUEST", `windowSeconds must be a positive number of seconds, got ${windowSeconds}`);
  }
  return { from: new Date(now.getTime() - windowSeconds * 1000), to: now, seconds: windowSeconds };
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
