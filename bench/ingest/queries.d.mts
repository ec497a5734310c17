// Types of queries.mjs (plain JavaScript so it also runs under node without tsx).
import type pg from "pg";
export function benchQueries(options: { pool: pg.Pool; log: (line: string) => void; spans?: number }): Promise<{
  graphP50: number;
  graphP95: number;
  traceGetP50: number;
  traceGetP95: number;
  pastHourGraphP50: number;
  pastHourGraphP95: number;
  quarterGraphP50: number;
  quarterGraphP95: number;
  seedSeconds: number;
  seedSpansSeconds: number;
}>;
