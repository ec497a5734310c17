// Types of decode.mjs (plain JavaScript so it also runs under node without tsx).
export function makeTraceBatch(b: number, startMs?: number): { body: Uint8Array; count: number };
export function benchDecode(options: { log: (line: string) => void }): Promise<{
  spansPerSecond: number;
  bytesPerSpan: number;
  logRecordsPerSecond: number;
  bytesPerLogRecord: number;
  dataPointsPerSecond: number;
  bytesPerDataPoint: number;
}>;
