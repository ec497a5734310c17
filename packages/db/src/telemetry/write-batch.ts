// One batch, one transaction: partitions for its days first (DDL outside the transaction), then spans and trace
// summaries, log records, metric points, and the RED rollups of whatever was new — from Istio metrics at once,
// from spans as client and server spans pair up (or time out). Nothing is acknowledged unless all of it commits.
import type pg from "pg";
import type { LogEntry, MetricPointRecord, SpanRecord } from "@trellis/otlp";
import { dayOf, type PartitionManager } from "./partitions.ts";
import type { RedContribution } from "./rollups/red-contribution.ts";
import type { SpanEdgePairer } from "./rollups/span-edges.ts";
import type { TelemetryBatch, WriteResult } from "./telemetry-store.ts";
import { logDays, writeLogs } from "./write-logs.ts";
import { metricDays, writeMetrics } from "./write-metrics.ts";
import { contributionDays, writeRollups } from "./write-rollups.ts";
import { spanDays, writeSpans } from "./write-spans.ts";

export type WriteContext = {
  pool: pg.Pool;
  partitions: PartitionManager;
  pairer: SpanEdgePairer;
  /** Services whose proxies reported istio_* metrics lately (their span edges are not counted twice). */
  meshServices: Map<string, number>;
  retentionDays: number;
  now: number;
};

/** How long a service counts as reporting istio_* metrics after its last point. */
const MESH_SERVICE_TTL_MS = 10 * 60_000;
/** Items stamped further ahead than this are refused: clocks are off, and a partition that far out is never kept. */
const FUTURE_LIMIT_MS = 86_400_000;

export async function writeBatch(ctx: WriteContext, input: TelemetryBatch): Promise<WriteResult> {
  const { batch, outOfRange } = splitByStoredRange(input, ctx.now, ctx.retentionDays);
  const [ofSpans, ofLogs, ofPoints] = [spanDays(batch.spans), logDays(batch.logs), metricDays(batch.metricPoints)];
  const days = new Set([...ofSpans, ...ofLogs, ...ofPoints, dayOf(ctx.now)]);
  await ctx.partitions.ensure("spans", ofSpans);
  await ctx.partitions.ensure("traces", ofSpans);
  await ctx.partitions.ensure("log_records", ofLogs);
  await ctx.partitions.ensure("metric_points", ofPoints);
  // Rollup rows are stamped with the data's own times; pending span edges can only be from the days seen so far.
  await ctx.partitions.ensure("red_10s", days);
  await ctx.partitions.ensure("red_1m", days);

  const client = await ctx.pool.connect();
  let undoEdges: (() => void) | undefined;
  try {
    await client.query("BEGIN");
    const newSpans = await writeSpans(client, batch.spans);
    const logs = await writeLogs(client, batch.logs);
    const metrics = await writeMetrics(client, batch.metricPoints);
    for (const c of metrics.contributions) ctx.meshServices.set(c.destinationService, ctx.now);
    const edges = ctx.pairer.step(newSpans, ctx.now, (service) => (ctx.meshServices.get(service) ?? 0) > ctx.now - MESH_SERVICE_TTL_MS);
    undoEdges = edges.undo;
    const contributions: RedContribution[] = [...metrics.contributions, ...edges.contributions];
    const missing = [...contributionDays(contributions)].filter((day) => !days.has(day));
    if (missing.length > 0) throw new MissingPartitions(missing);
    await writeRollups(client, contributions);
    await client.query("COMMIT");
    return { spans: newSpans.length, logs, metricPoints: metrics.stored, outOfRange };
  } catch (error) {
    undoEdges?.();
    await client.query("ROLLBACK").catch(() => {});
    if (error instanceof MissingPartitions) {
      // A late span edge from a day this batch did not touch: make its partitions, then run the batch again.
      await ctx.partitions.ensure("red_10s", error.days);
      await ctx.partitions.ensure("red_1m", error.days);
      return writeBatch(ctx, input);
    }
    throw error;
  } finally {
    client.release();
  }
}

class MissingPartitions extends Error {
  constructor(readonly days: number[]) {
    super(`rollup partitions missing for days ${days.join(", ")}`);
  }
}

/**
 * Items older than the retention (they would be dropped at once) or stamped more than a day ahead are refused and
 * counted, with a message naming the first, so a sender with a broken clock finds out.
 */
export function splitByStoredRange(batch: TelemetryBatch, now: number, retentionDays: number): { batch: TelemetryBatch; outOfRange: WriteResult["outOfRange"] } {
  const oldest = (dayOf(now) - retentionDays) * 86_400_000;
  const newest = now + FUTURE_LIMIT_MS;
  const messages: string[] = [];
  const keep = <T>(items: readonly T[], timeOf: (item: T) => bigint, what: string): T[] => {
    const kept: T[] = [];
    let firstRefused: bigint | undefined;
    for (const item of items) {
      const time = timeOf(item);
      const ms = Number(time / 1_000_000n);
      if (ms >= oldest && ms <= newest) kept.push(item);
      else firstRefused ??= time;
    }
    if (firstRefused !== undefined) {
      const at = new Date(Number(firstRefused / 1_000_000n)).toISOString();
      messages.push(`${items.length - kept.length} ${what} (the first stamped ${at}) are outside the stored range ${new Date(oldest).toISOString()} … ${new Date(newest).toISOString()}; check the sender's clock`);
    }
    return kept;
  };
  const spans = keep<SpanRecord>(batch.spans, (s) => s.startTimeUnixNano, "spans");
  const logs = keep<LogEntry>(batch.logs, (l) => l.timeUnixNano, "log records");
  const metricPoints = keep<MetricPointRecord>(batch.metricPoints, (p) => p.timeUnixNano, "metric points");
  return {
    batch: { spans, logs, metricPoints },
    outOfRange: {
      spans: batch.spans.length - spans.length,
      logs: batch.logs.length - logs.length,
      metricPoints: batch.metricPoints.length - metricPoints.length,
      messages,
    },
  };
}
