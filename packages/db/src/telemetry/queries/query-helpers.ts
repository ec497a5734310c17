// What the telemetry queries share: the time range they read (the last windowSeconds, or explicit from/to, with one
// message for a bad combination), numbers from Postgres, and UTC days.
import { AppError } from "@trellis/runtime";

export type TimeRangeInput = {
  /** Seconds before `now`; exclusive with from/to. */
  windowSeconds?: number;
  from?: Date;
  /** Defaults to now. */
  to?: Date;
  now?: Date;
};

export type TimeRange = { from: Date; to: Date };

/** The range a query reads; without windowSeconds or from, the last `defaultWindowSeconds`. */
export function resolveTimeRange(input: TimeRangeInput, defaultWindowSeconds: number): TimeRange {
  const now = input.now ?? new Date();
  if (input.windowSeconds !== undefined) {
    if (input.from !== undefined || input.to !== undefined) {
      throw new AppError("BAD_REQUEST", "give either windowSeconds or from/to, not both");
    }
    if (!Number.isFinite(input.windowSeconds) || input.windowSeconds <= 0) {
      throw new AppError("BAD_REQUEST", `windowSeconds must be a positive number of seconds, got ${input.windowSeconds}`);
    }
    return { from: new Date(now.getTime() - input.windowSeconds * 1000), to: now };
  }
  const to = input.to ?? now;
  const from = input.from ?? new Date(to.getTime() - defaultWindowSeconds * 1000);
  for (const [name, date] of [["from", from], ["to", to]] as const) {
    if (Number.isNaN(date.getTime())) throw new AppError("BAD_REQUEST", `${name} is not a valid date`);
  }
  if (from >= to) {
    throw new AppError("BAD_REQUEST", `from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  }
  return { from, to };
}

/** Postgres returns bigint and numeric as strings; this keeps them as plain numbers (null as 0). */
export function toNumber(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value);
}

/** The UTC calendar day of a time, as the `day` partition key of the traces table (YYYY-MM-DD). */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
