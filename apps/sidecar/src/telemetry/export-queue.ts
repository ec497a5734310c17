// The way out for spans and access-log records, bounded and counted: each record is encoded into the pending
// batch as it is made; the batch is sealed when it holds `batchSize` records or `flushMs` after its first, and
// sealed batches are POSTed one at a time per signal. At most `capacity` records wait (pending or sealed, not yet
// handed to a POST); beyond that a record is refused and counted as queue_full, and a batch the collector did not
// take is counted as export_failed (trellis_telemetry_dropped_total). Nothing here ever waits on the collector.
import type { RecordBatch } from "@trellis/otlp/encode";
import type { DropReason } from "./metric-store.ts";
import type { OtlpPoster } from "./otlp-exporters.ts";

export type OnDrop = (reason: DropReason, count: number) => void;

/** Appends one record to a batch: writes it to `batch.w` and counts it (finishSpan / finishLogRecord do). */
export type WriteRecord<R> = (batch: RecordBatch, record: R) => void;

export type ExportQueue = {
  /** Encodes `record` into the pending batch, or counts it as dropped when `capacity` records already wait. */
  append: <R>(write: WriteRecord<R>, record: R) => void;
  /** Seals the pending batch; resolves once every sealed batch has been POSTed (taken or failed). */
  flush: () => Promise<void>;
  /** flush, then closes the connections; records appended afterwards are ignored. */
  shutdown: () => Promise<void>;
  /** Records accepted and not yet handed to a POST. */
  queued: () => number;
};

/** A sealed batch: its export request, and the buffer under it (reused for a later batch once POSTed). */
type Sealed = { body: Uint8Array; count: number; buffer: Buffer };

export function createExportQueue({
  poster,
  startBatch,
  onDrop,
  capacity,
  batchSize,
  flushMs = 1_000,
  bytesPerRecord: initialBytesPerRecord = 1_024,
}: {
  poster: OtlpPoster;
  /**
   * An empty batch (the signal's resource and scope framing) with room for about `expectedBytes` of records,
   * written into `reuse` (an exported batch's buffer) when given and big enough.
   */
  startBatch: (expectedBytes: number, reuse?: Buffer) => RecordBatch;
  onDrop: OnDrop;
  capacity: number;
  batchSize: number;
  flushMs?: number;
  /** A first guess for sizing batch buffers; later batches are sized from the last one sealed. */
  bytesPerRecord?: number;
}): ExportQueue {
  let pending: RecordBatch | null = null;
  let timer: NodeJS.Timeout | undefined;
  const sealed: Sealed[] = [];
  let sealedRecords = 0;
  let sending = false;
  let closed = false;
  let bytesPerRecord = initialBytesPerRecord;
  let drained: (() => void)[] = [];
  // The buffer of the last batch the collector took: the next batch is written into it, so a steady flow of
  // batches allocates (and leaves to the allocator) no half-megabyte buffer per export.
  let spare: Buffer | undefined;

  const seal = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = null;
    if (batch === null || batch.count === 0) return;
    bytesPerRecord = Math.ceil(batch.recordBytes() / batch.count);
    sealed.push({ body: batch.seal(), count: batch.count, buffer: batch.w.buf });
    sealedRecords += batch.count;
    send();
  };

  const send = () => {
    if (sending) return;
    const next = sealed.shift();
    if (next === undefined) {
      for (const wake of drained.splice(0)) wake();
      return;
    }
    sending = true;
    sealedRecords -= next.count;
    poster.post(next.body, (error, released) => {
      if (error !== null) onDrop("export_failed", next.count);
      if (released && (spare === undefined || next.buffer.length > spare.length)) spare = next.buffer;
      sending = false;
      send();
    });
  };

  const flush = () => {
    seal();
    if (!sending && sealed.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => drained.push(resolve));
  };

  return {
    append(write, record) {
      if (closed) return;
      if (sealedRecords + (pending?.count ?? 0) >= capacity) {
        onDrop("queue_full", 1);
        return;
      }
      if (pending === null) {
        pending = startBatch(bytesPerRecord * batchSize, spare);
        if (pending.w.buf === spare) spare = undefined;
        timer = setTimeout(seal, flushMs).unref();
      }
      const batch = pending;
      const pos = batch.w.pos;
      const count = batch.count;
      try {
        write(batch, record);
      } catch {
        // A record that cannot be encoded (a bug, not a collector problem) must not leave half a message behind.
        batch.w.pos = pos;
        batch.count = count;
        onDrop("export_failed", 1);
        return;
      }
      if (batch.count >= batchSize) seal();
    },
    flush,
    async shutdown() {
      closed = true;
      await flush();
      drained = [];
      await poster.shutdown();
    },
    queued: () => sealedRecords + (pending?.count ?? 0),
  };
}
