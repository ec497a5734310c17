// Shared pieces of the batched INSERTs: every batch is one `INSERT … SELECT … FROM unnest($1::type[], …)` (one
// round trip and one plan however many rows), times travel as integer microseconds since the epoch (exact, and
// cheaper for Postgres than parsing timestamp text), and JSON is written with bigints as strings.

/** Unix nanoseconds → microseconds, the precision of a Postgres timestamp. */
export function nanosToMicros(nanos: bigint): string {
  return (nanos / 1000n).toString();
}

/** The SQL expression turning an int8 of epoch microseconds into a timestamptz. */
export function microsToTimestamp(column: string): string {
  return `(timestamptz 'epoch' + ${column} * interval '1 microsecond')`;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Column arrays for unnest(): one array per column, filled row by row. */
export function toColumns<T>(rows: readonly T[], width: number, toRow: (row: T) => unknown[]): unknown[][] {
  const columns = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const values = toRow(rows[i] as T);
    for (let c = 0; c < width; c++) (columns[c] as unknown[])[i] = values[c];
  }
  return columns;
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
