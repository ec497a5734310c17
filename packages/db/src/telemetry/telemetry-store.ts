// The telemetry write path: one call stores a batch of decoded spans, log records and metric points in one
// transaction — raw rows (idempotent on natural keys), trace summaries, and the RED rollups derived from what was
// new in the batch — so a batch is either wholly stored or not at all, and a retried one changes nothing.
import type pg from "pg";
import type { LogEntry, MetricPointRecord, SpanRecord } from "@trellis/otlp";
import { PartitionManager } from "./partitions.ts";
import { splitByStoredRange, writeBatch } from "./write-batch.ts";
import { slideLastHour } from "./rollups/last-hour.ts";
import { SpanEdgePairer } from "./rollups/span-edges.ts";

export type TelemetryBatch = {
  spans: readonly SpanRecord[];
  logs: readonly LogEntry[];
  metricPoints: readonly MetricPointRecord[];
};

/**
 * What the batch added (rows already stored by an earlier send of the same data are not counted), and what it
 * refused for being stamped outside the stored range (older than the retention, or more than a day ahead) — to be
 * reported to the sender as rejected items of a partial success.
 */
export type WriteResult = {
  spans: number;
  logs: number;
  metricPoints: number;
  outOfRange: { spans: number; logs: number; metricPoints: number; messages: string[] };
};

export type TelemetryStoreOptions = {
  /** Days of telemetry kept; older daily partitions are dropped (default 7). */
  retentionDays?: number;
  /** How long a server or client span waits for its peer before its graph edge is recorded without it (ms). */
  edgeWaitMs?: number;
  now?: () => number;
};

export type TelemetryStore = {
  /**
   * The part of a batch the store keeps, and what it refuses for being stamped outside the stored range — so a
   * receiver can tell each request what was refused before merging requests into one write. write() applies the
   * same rule.
   */
  inStoredRange(batch: TelemetryBatch): { batch: TelemetryBatch; outOfRange: WriteResult["outOfRange"] };
  write(batch: TelemetryBatch): Promise<WriteResult>;
  /**
   * Ingest calls it every second: records the graph edges of spans whose peer did not arrive in time, and slides
   * the last-hour rollup window.
   */
  tick(): Promise<void>;
  /** Creates today's and tomorrow's partitions and drops expired ones; ingest calls it at start and hourly. */
  maintain(): Promise<{ dropped: string[] }>;
};

export function createTelemetryStore(pool: pg.Pool, options: TelemetryStoreOptions = {}): TelemetryStore {
  const now = options.now ?? Date.now;
  const retentionDays = options.retentionDays ?? 7;
  const partitions = new PartitionManager(pool);
  const pairer = new SpanEdgePairer({ waitMs: options.edgeWaitMs ?? 10_000 });
  const meshServices = new Map<string, number>();
  const context = () => ({ pool, partitions, pairer, meshServices, retentionDays, now: now() });
  return {
    inStoredRange: (batch) => splitByStoredRange(batch, now(), retentionDays),
    write: (batch) => writeBatch(context(), batch),
    tick: async () => {
      if (pairer.size > 0) await writeBatch(context(), { spans: [], logs: [], metricPoints: [] });
      await slideLastHour(pool, now());
    },
    maintain: async () => {
      await partitions.ensureAhead(now());
      return { dropped: await partitions.dropExpired(retentionDays, now()) };
    },
  };
}
