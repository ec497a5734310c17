// Group commit between the receivers and the telemetry store. Requests that arrive while every writer is busy are
// merged into the next write, so under load Postgres sees few large transactions, and an idle ingest still writes
// each request at once. A request is answered only after the write holding it committed (an OTLP 200 means
// stored); when a write fails, every request in it is refused — nothing is ever acknowledged in part. Items
// accepted and not yet committed are bounded: past the bound a request is refused at once with 429, so memory
// stays bounded however fast exporters send.
import type { TelemetryBatch } from "@trellis/db";
import { RetryLaterError } from "./retry-later.ts";
import { toStoreError } from "./store-error.ts";

export type BatcherOptions = {
  write: (batch: TelemetryBatch) => Promise<unknown>;
  /** Spans + log records + metric points accepted and not yet committed (waiting or being written). */
  maxQueueItems: number;
  /** Writes in flight at once. */
  writers: number;
  /** Items one write gathers from waiting requests; a single larger request is still written whole. */
  maxWriteItems?: number;
};

type Waiting = { batch: TelemetryBatch; items: number; resolve: () => void; reject: (error: unknown) => void };

const DEFAULT_MAX_WRITE_ITEMS = 4_096;
/** A full queue drains within a few writes, and a stopping ingest is soon replaced: one second is enough. */
const RETRY_AFTER_SECONDS = 1;

export function countItems(batch: TelemetryBatch): number {
  return batch.spans.length + batch.logs.length + batch.metricPoints.length;
}

export class Batcher {
  private readonly waiting: Waiting[] = [];
  private readonly maxWriteItems: number;
  /** Accepted and not yet answered: what is waiting plus what is being written. */
  private queued = 0;
  private activeWrites = 0;
  private draining = false;
  private readonly onIdle: Array<() => void> = [];

  constructor(private readonly options: BatcherOptions) {
    this.maxWriteItems = options.maxWriteItems ?? DEFAULT_MAX_WRITE_ITEMS;
  }

  get queuedItems(): number {
    return this.queued;
  }

  /** Resolves once the store committed a write containing `batch`; rejects with a RetryLaterError or the store's error. */
  submit(batch: TelemetryBatch): Promise<void> {
    const items = countItems(batch);
    if (this.draining) {
      return Promise.reject(new RetryLaterError("ingest is shutting down; retry in a moment", { httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS }));
    }
    // An empty queue takes any request, so one larger than the bound is slow rather than refused forever.
    if (this.queued > 0 && this.queued + items > this.options.maxQueueItems) {
      return Promise.reject(
        new RetryLaterError(
          `ingest is at capacity (${this.queued} items waiting to be stored, limit ${this.options.maxQueueItems}, TRELLIS_INGEST_QUEUE_ITEMS); retry after the Retry-After delay`,
          { httpStatus: 429, retryAfterSeconds: RETRY_AFTER_SECONDS },
        ),
      );
    }
    this.queued += items;
    const stored = new Promise<void>((resolve, reject) => this.waiting.push({ batch, items, resolve, reject }));
    this.startWrites();
    return stored;
  }

  /** Refuses new requests and resolves when everything accepted so far has been written (or refused). */
  drain(): Promise<void> {
    this.draining = true;
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.onIdle.push(resolve));
  }

  private startWrites(): void {
    while (this.activeWrites < this.options.writers && this.waiting.length > 0) {
      this.activeWrites += 1;
      void this.write(this.takeGroup());
    }
  }

  /** The oldest waiting requests, as many as fit in one write (at least one). */
  private takeGroup(): Waiting[] {
    const group = this.waiting.splice(0, 1);
    let items = group[0]?.items ?? 0;
    for (let next = this.waiting[0]; next && items + next.items <= this.maxWriteItems; next = this.waiting[0]) {
      group.push(next);
      items += next.items;
      this.waiting.shift();
    }
    return group;
  }

  private async write(group: Waiting[]): Promise<void> {
    const items = group.reduce((sum, request) => sum + request.items, 0);
    try {
      await this.options.write(mergeBatches(group));
      for (const request of group) request.resolve();
    } catch (error) {
      const refusal = toStoreError(error);
      const cause = error instanceof Error ? error.message : String(error);
      console.error(`ingest: a write of ${items} items (${group.length} requests) failed, answered ${refusal.httpStatus}: ${cause}`);
      for (const request of group) request.reject(refusal);
    } finally {
      this.activeWrites -= 1;
      this.queued -= items;
      this.startWrites();
      if (this.queued === 0) for (const resolve of this.onIdle.splice(0)) resolve();
    }
  }
}

function mergeBatches(group: readonly Waiting[]): TelemetryBatch {
  const [only] = group;
  if (only && group.length === 1) return only.batch;
  return {
    spans: group.flatMap((request) => request.batch.spans),
    logs: group.flatMap((request) => request.batch.logs),
    metricPoints: group.flatMap((request) => request.batch.metricPoints),
  };
}
