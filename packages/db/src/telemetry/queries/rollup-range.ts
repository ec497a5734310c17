// Which RED rollup a time range reads and over how many seconds its rates are taken. Ranges up to 5 minutes read
// the 10 s buckets, longer ones the 1 min buckets (a sixth of the rows: a 15-minute graph of 5,000 edges reads 80,000
// rows, not 450,000; widening to whole minutes adds at most a minute to a range of more than five). The range is widened to whole buckets, and
// rates are per second of *observed* time: the part of the widened range that is not in the future and not before
// the oldest stored bucket — right after the first start a fresh 10 rps service must not show as 2 rps.
import type pg from "pg";
import type { TimeRange } from "./query-helpers.ts";

/** The rollups with time buckets; red_last_hour is one row per edge for the hour that just passed. */
export type BucketTable = "red_10s" | "red_1m";
export type RollupTable = BucketTable | "red_last_hour";

export type RollupRange = {
  table: RollupTable;
  /** First bucket read (inclusive). */
  from: Date;
  /** End of the last bucket read (exclusive). */
  to: Date;
  /** Seconds of observed time in [from, to); rates divide by this. */
  seconds: number;
};

const FINE_RANGE_LIMIT_SECONDS = 5 * 60;

function chooseRollup(seconds: number): { table: BucketTable; bucketSeconds: number } {
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

/** How far a requested range may be from "the last hour, ending now" and still be answered by red_last_hour. */
const LAST_HOUR_SLACK_MS = 60_000;

/**
 * red_last_hour answers a range that is the last hour ending now (to the minute), when ingest keeps it current:
 * one row per edge instead of sixty minute rows.
 */
async function lastHourRange(pool: pg.Pool, range: TimeRange, now: Date): Promise<RollupRange | null> {
  const length = range.to.getTime() - range.from.getTime();
  if (Math.abs(length - 3_600_000) > LAST_HOUR_SLACK_MS || Math.abs(range.to.getTime() - now.getTime()) > LAST_HOUR_SLACK_MS) return null;
  const { rows } = await pool.query<{ from_minute: Date | null }>("SELECT from_minute FROM red_window_state WHERE name = 'last_hour'");
  const from = rows[0]?.from_minute;
  if (!from || Math.abs(from.getTime() - range.from.getTime()) > LAST_HOUR_SLACK_MS) return null; // not slid lately
  return { table: "red_last_hour", from, to: now, seconds: await observedSeconds(pool, "red_1m", from, now, now) };
}

/** Seconds of [from, to) that are neither in the future nor before the oldest bucket `table` holds. */
async function observedSeconds(pool: pg.Pool, table: BucketTable, from: Date, to: Date, now: Date): Promise<number> {
  // min() over the bucket-leading primary key: one index probe per partition, the first partition answering.
  const { rows } = await pool.query<{ earliest: Date | null }>(`SELECT min(bucket) AS earliest FROM ${table}`);
  const earliest = rows[0]?.earliest ?? null;
  const observedFrom = earliest && earliest > from ? earliest.getTime() : from.getTime();
  const observedTo = Math.min(to.getTime(), now.getTime());
  return Math.max(1, (observedTo - observedFrom) / 1000);
}

export async function resolveRollupRange(pool: pg.Pool, range: TimeRange, now: Date): Promise<RollupRange> {
  const lastHour = await lastHourRange(pool, range, now);
  if (lastHour) return lastHour;
  const { table, bucketSeconds } = chooseRollup((range.to.getTime() - range.from.getTime()) / 1000);
  const from = alignDown(range.from, bucketSeconds);
  const to = alignUp(range.to, bucketSeconds);
  return { table, from, to, seconds: await observedSeconds(pool, table, from, to, now) };
}
