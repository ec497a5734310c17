// metrics.red: rate, errors and latency of one service, one service version, or one caller → callee edge as a time
// series, one point per step. Steps under a minute read the 10 s rollups, a minute or more the 1 min rollups; a
// step without traffic is a zero-rate point, so a chart shows the gap as a drop to zero rather than a line across.
import type pg from "pg";
import { AppError } from "@trellis/runtime";
import { emptyTotals, queryTotals, readTotals, summarize, TOTALS_SQL, type RedSummary, type RedTotals, type TotalsRow } from "./red-totals.ts";
import { alignDown, alignUp } from "./rollup-range.ts";
import { resolveTimeRange, type TimeRangeInput } from "./query-helpers.ts";

export type RedTarget =
  /** What the service received (every version). */
  | { kind: "service"; service: string; namespace?: string }
  /** What one version of the service received. */
  | { kind: "version"; service: string; version: string; namespace?: string }
  /** Calls from one service to another. */
  | { kind: "edge"; source: string; destination: string; sourceNamespace?: string; destinationNamespace?: string };

/** One step: `time` is its start; rates are per second of the step (of its elapsed part, for the current one). */
export type RedPoint = RedSummary & { time: Date };

export type RedSeries = { stepSeconds: number; points: RedPoint[] };

export type FindRedSeriesOptions = TimeRangeInput & { pool: pg.Pool; target: RedTarget; stepSeconds: number };

const DEFAULT_WINDOW_SECONDS = 3600;
/** A day at one-minute steps, with room for the partial steps at both ends. */
export const MAX_POINTS = 1_500;

export async function findRedSeries({ pool, target, stepSeconds, ...rangeInput }: FindRedSeriesOptions): Promise<RedSeries> {
  const now = rangeInput.now ?? new Date();
  const range = resolveTimeRange(rangeInput, DEFAULT_WINDOW_SECONDS);
  const from = alignDown(range.from, stepSeconds);
  const to = alignUp(range.to, stepSeconds);
  checkStep(stepSeconds, (to.getTime() - from.getTime()) / 1000);
  const table = stepSeconds < 60 ? "red_10s" : "red_1m";

  const filter = targetFilter(target);
  const rows = await queryTotals<TotalsRow & { step_start: number }>(
    pool,
    `SELECT floor(extract(epoch FROM bucket) / $3)::float8 * $3 * 1000 AS step_start, ${TOTALS_SQL}
     FROM ${table}
     WHERE bucket >= $1 AND bucket < $2 AND ${filter.sql}
     GROUP BY 1`,
    [from, to, stepSeconds, ...filter.params],
  );
  const byStep = new Map<number, RedTotals>(rows.map((row) => [row.step_start, readTotals(row)]));

  const stepMs = stepSeconds * 1000;
  const points: RedPoint[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += stepMs) {
    const elapsed = Math.min(stepMs, now.getTime() - t) / 1000;
    points.push({ time: new Date(t), ...summarize(byStep.get(t) ?? emptyTotals(), elapsed) });
  }
  return { stepSeconds, points };
}

function checkStep(stepSeconds: number, rangeSeconds: number): void {
  if (!Number.isInteger(stepSeconds) || stepSeconds <= 0 || stepSeconds % 10 !== 0) {
    throw new AppError("BAD_REQUEST", `stepSeconds must be a positive multiple of 10 (the finest rollup), got ${stepSeconds}`);
  }
  if (stepSeconds >= 60 && stepSeconds % 60 !== 0) {
    throw new AppError("BAD_REQUEST", `stepSeconds ${stepSeconds} is not a whole number of minutes; steps of a minute or more read the 1-minute rollups, so use 60, 120, 300, …`);
  }
  const points = rangeSeconds / stepSeconds;
  if (points > MAX_POINTS) {
    throw new AppError("BAD_REQUEST", `the range at stepSeconds ${stepSeconds} gives ${points} points, at most ${MAX_POINTS}; use a larger stepSeconds or a shorter range`);
  }
}

function targetFilter(target: RedTarget): { sql: string; params: string[] } {
  const conditions: [string, string | undefined][] =
    target.kind === "edge"
      ? [
          ["source_service", target.source],
          ["destination_service", target.destination],
          ["source_namespace", target.sourceNamespace],
          ["destination_namespace", target.destinationNamespace],
        ]
      : [
          ["destination_service", target.service],
          ["destination_namespace", target.namespace],
          ["destination_version", target.kind === "version" ? target.version : undefined],
        ];
  const given = conditions.filter((c): c is [string, string] => c[1] !== undefined);
  return { sql: given.map(([column], i) => `${column} = $${i + 4}`).join(" AND "), params: given.map(([, value]) => value) };
}
