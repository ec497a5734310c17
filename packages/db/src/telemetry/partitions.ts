// Daily partitions of the telemetry tables: created before rows for a day are written (and a day ahead), dropped
// whole once older than the retention — dropping a partition costs nothing, unlike DELETE and VACUUM.
import type pg from "pg";

/** The partitioned telemetry tables and whether their partition key is a timestamptz or a date. */
export const PARTITIONED_TABLES = {
  spans: "timestamptz",
  traces: "date",
  log_records: "timestamptz",
  metric_points: "timestamptz",
  red_10s: "timestamptz",
  red_1m: "timestamptz",
} as const;

export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

const DAY_MS = 86_400_000;
/** Serialises partition DDL between ingest replicas (CREATE ... IF NOT EXISTS can still race on the catalog). */
const DDL_LOCK_ID = 0x7472_6c70; // "trlp"

/** Days as UTC day numbers (ms since epoch / 86,400,000, floored). */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function partitionName(table: PartitionedTable, day: number): string {
  const date = new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "");
  return `${table}_p${date}`;
}

/** Remembers which partitions exist, so the write path asks Postgres only for a day it has not seen. */
export class PartitionManager {
  private readonly known = new Set<string>();

  constructor(private readonly pool: pg.Pool) {}

  /** Creates the partitions of `table` for these UTC day numbers if they are missing. */
  async ensure(table: PartitionedTable, days: Iterable<number>): Promise<void> {
    const missing = [...new Set(days)].filter((day) => !this.known.has(partitionName(table, day)));
    if (missing.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [DDL_LOCK_ID]);
      for (const day of missing) await client.query(createSql(table, day));
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    for (const day of missing) this.known.add(partitionName(table, day));
  }

  /** Today's and tomorrow's partitions of every table, so the first rows of a day never wait on DDL. */
  async ensureAhead(now = Date.now()): Promise<void> {
    const today = dayOf(now);
    for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) await this.ensure(table, [today, today + 1]);
  }

  /**
   * Drops partitions whose whole day is older than `retentionDays` before `now` (a partition holding anything
   * younger is kept). Returns the dropped partitions' names.
   */
  async dropExpired(retentionDays: number, now = Date.now()): Promise<string[]> {
    const oldestKept = dayOf(now) - retentionDays;
    const { rows } = await this.pool.query<{ parent: string; child: string }>(
      `SELECT parent.relname AS parent, child.relname AS child
         FROM pg_inherits i
         JOIN pg_class parent ON parent.oid = i.inhparent
         JOIN pg_class child ON child.oid = i.inhrelid
        WHERE parent.relname = ANY($1::text[])`,
      [Object.keys(PARTITIONED_TABLES)],
    );
    const dropped: string[] = [];
    for (const { parent, child } of rows) {
      const match = /_p(\d{4})(\d{2})(\d{2})$/.exec(child);
      if (!match) continue;
      const day = dayOf(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
      if (day >= oldestKept) continue;
      await this.pool.query(`DROP TABLE IF EXISTS "${child}"`);
      this.known.delete(partitionName(parent as PartitionedTable, day));
      dropped.push(child);
    }
    return dropped.sort();
  }
}

function createSql(table: PartitionedTable, day: number): string {
  const from = new Date(day * DAY_MS).toISOString();
  const to = new Date((day + 1) * DAY_MS).toISOString();
  const [lower, upper] = PARTITIONED_TABLES[table] === "date" ? [from.slice(0, 10), to.slice(0, 10)] : [from, to];
  return `CREATE TABLE IF NOT EXISTS "${partitionName(table, day)}" PARTITION OF "${table}" FOR VALUES FROM ('${lower}') TO ('${upper}')`;
}
