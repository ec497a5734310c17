// Which RED rollup a time range reads and over how many seconds its rates are taken. Ranges up to 15 minutes read
// the 10 s buckets, longer ones the 1 min buckets (a sixth of the rows). The range is widened to whole buckets, and
// rates are per second of *observed* time: the part of the widened range that is not in the future and not before
// the oldest stored bucket — right after the first start a fresh 10 rps service must not show as 2 rps.
import type pg from "pg";
import type { TimeRange } from "./query-helpers.ts";

export type RollupTable = "red_10s" | "red_1m";

export type RollupRange = {
  table: RollupTable;
  /** First bucket read (inclusive). */
  from: Date;
  /** End of the last bucket read (exclusive). */
  to: Date;
  /** Seconds of observed time in [from, to); rates divide by this. */
  seconds: number;
};

const FINE_RANGE_LIMIT_SECONDS = 15 * 60;

function chooseRollup(seconds: number): { table: RollupTable; bucketSeconds: number } {
  return seconds <= FINE_RANGE_LIMIT_SECONDS ? { table: "red_10s", bucketSeconds: 10 } : { table: "red_1m", bucketSeconds: 60 };
}

export function alignDown(date: Date, seconds: number): Date {
  const ms = seconds * 1000;
  return new Date(Math.floor(date.getTime() / ms) * ms);
}

export function alignUp(date: Date, seconds: number): Date {
  const ms = seconds * 1000;
  return new Date(Math.ceil(date.getTime() / ms) * ms);
}

export async function resolveRollupRange(pool: pg.Pool, range: TimeRange, now: Date): Promise<RollupRange> {
  const { table, bucketSeconds } = chooseRollup((range.to.getTime() - range.from.getTime()) / 1000);
  const from = alignDown(range.from, bucketSeconds);
  const to = alignUp(range.to, bucketSeconds);
  // min() over the bucket-leading primary key: one index probe per partition, the first partition answering.
  const { rows } = await pool.query<{ earliest: Date | null }>(`SELECT min(bucket) AS earliest FROM ${table}`);
  const earliest = rows[0]?.earliest ?? null;
  const observedFrom = earliest && earliest > from ? earliest.getTime() : from.getTime();
  const observedTo = Math.min(to.getTime(), now.getTime());
  return { table, from, to, seconds: Math.max(1, (observedTo - observedFrom) / 1000) };
}
