import { beginLogRecord, decodeLogsRequest, encodeResource, encodeScope, finishLogRecord, startLogsBatch, type RecordBatch } from "@trellis/otlp";
import { describe, expect, it } from "vitest";
import { createExportQueue } from "./export-queue.ts";
import type { DropReason } from "./metric-store.ts";
import type { OtlpPoster, PostDone } from "./otlp-exporters.ts";

const framing = { resource: encodeResource({ "service.name": "checkout" }), scope: encodeScope("test") };

/**
 * A poster that holds every POST until released (a stalled collector), answering null (taken) or an error. It
 * keeps the bodies it was given, so it never releases their memory to the queue.
 */
function createStalledPoster() {
  const held: { body: Uint8Array; done: PostDone }[] = [];
  const bodies: Uint8Array[] = [];
  let shutDown = false;
  const poster: OtlpPoster = {
    post(body, done) {
      bodies.push(body);
      held.push({ body, done });
    },
    shutdown: async () => {
      shutDown = true;
    },
  };
  return {
    poster,
    bodies,
    /** Answers what is held now (a POST that follows while releasing is held in turn). */
    release(error: Error | null = null) {
      for (const post of held.splice(0)) post.done(error, false);
    },
    inFlight: () => held.reduce((n, post) => n + countRecords(post.body), 0),
    shutDown: () => shutDown,
  };
}

/** A poster that takes every batch at once, keeping the bodies (never released for reuse). */
function createTakingPoster() {
  const bodies: Uint8Array[] = [];
  const poster: OtlpPoster = {
    post(body, done) {
      bodies.push(body);
      setImmediate(() => done(null, false));
    },
    shutdown: () => Promise.resolve(),
  };
  return { poster, bodies };
}

function createDropTally() {
  const tally: Partial<Record<DropReason, number>> = {};
  return { tally, onDrop: (reason: DropReason, count: number) => (tally[reason] = (tally[reason] ?? 0) + count) };
}

const countRecords = (body: Uint8Array) => decodeLogsRequest(body, "protobuf").logs.length;
const bodiesOf = (body: Uint8Array) => decodeLogsRequest(body, "protobuf").logs.map((log) => log.body);

function writeLine(batch: RecordBatch, line: string): void {
  const at = beginLogRecord(batch, 1767225600000, 9, "INFO", line);
  finishLogRecord(batch, at, null, "", 0, 1767225600000);
}

function makeQueue(poster: OtlpPoster, options: { capacity?: number; batchSize?: number; flushMs?: number; onDrop?: (reason: DropReason, count: number) => void } = {}) {
  return createExportQueue({
    poster,
    startBatch: (bytes, reuse) => startLogsBatch(framing, bytes, reuse),
    onDrop: options.onDrop ?? (() => {}),
    capacity: options.capacity ?? 1_000,
    batchSize: options.batchSize ?? 4,
    flushMs: options.flushMs ?? 60_000,
    bytesPerRecord: 8,
  });
}

describe("createExportQueue batching", () => {
  it("seals a batch at its size, POSTs batches in order one at a time, and flushes the rest", async () => {
    const stalled = createStalledPoster();
    const queue = makeQueue(stalled.poster);
    for (let i = 0; i < 10; i += 1) queue.append(writeLine, `line ${i}`);
    // The first full batch is in flight; the second waits sealed; two records are pending.
    expect(stalled.bodies).toHaveLength(1);
    expect(queue.queued()).toBe(6);
    stalled.release();
    expect(stalled.bodies).toHaveLength(2);
    const flushed = queue.flush();
    stalled.release();
    stalled.release();
    await flushed;
    expect(stalled.bodies.map(bodiesOf)).toEqual([
      ["line 0", "line 1", "line 2", "line 3"],
      ["line 4", "line 5", "line 6", "line 7"],
      ["line 8", "line 9"],
    ]);
    expect(queue.queued()).toBe(0);
  });

  it("seals a batch that is not full once flushMs has passed since its first record", async () => {
    const taking = createTakingPoster();
    const queue = makeQueue(taking.poster, { flushMs: 30 });
    queue.append(writeLine, "a");
    queue.append(writeLine, "b");
    expect(taking.bodies).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(taking.bodies.map(bodiesOf)).toEqual([["a", "b"]]);
  });

  it("writes each batch into the buffer of the last one taken, when the poster released it", async () => {
    // This poster reads each body as it takes it, then releases it: later batches may overwrite it.
    const seen: unknown[][] = [];
    const buffers: ArrayBufferLike[] = [];
    const poster: OtlpPoster = {
      post(body, done) {
        seen.push(bodiesOf(body));
        buffers.push(body.buffer);
        setImmediate(() => done(null, true));
      },
      shutdown: () => Promise.resolve(),
    };
    const queue = makeQueue(poster, { batchSize: 3 });
    // Lines long enough that each batch has a buffer of its own (Buffer's shared pool takes only small ones).
    const line = (round: number, i: number) => `line ${round}.${i} ${"x".repeat(3_000)}`;
    for (let round = 0; round < 4; round += 1) {
      for (let i = 0; i < 3; i += 1) queue.append(writeLine, line(round, i));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await queue.flush();
    expect(seen).toEqual([0, 1, 2, 3].map((round) => [0, 1, 2].map((i) => line(round, i))));
    // The first batch's buffer is allocated; from the second on, the one released before it is written again.
    expect(new Set(buffers).size).toBeLessThanOrEqual(2);
  });

  it("sizes later batches from the records it has seen, and seals each whole", async () => {
    const taking = createTakingPoster();
    const queue = makeQueue(taking.poster, { batchSize: 50 });
    const lines = Array.from({ length: 120 }, (_, i) => `${i} ${"é".repeat(i * 7)}`);
    for (const line of lines) queue.append(writeLine, line);
    await queue.flush();
    expect(taking.bodies.flatMap(bodiesOf)).toEqual(lines);
  });
});

describe("createExportQueue drop counting", () => {
  it("counts every record the full queue refuses, and the records of a failed POST", () => {
    const { tally, onDrop } = createDropTally();
    const stalled = createStalledPoster();
    const queue = makeQueue(stalled.poster, { capacity: 20, batchSize: 5, onDrop });
    for (let i = 0; i < 100; i += 1) queue.append(writeLine, `line ${i}`);
    // Every record is either in the POST in flight, still queued, or counted as dropped — none lost silently.
    expect(stalled.inFlight() + queue.queued() + (tally.queue_full ?? 0)).toBe(100);
    expect(queue.queued()).toBe(20);
    expect(tally.queue_full).toBe(75);
    const handed = stalled.inFlight();
    stalled.release(new Error("503"));
    expect(tally.export_failed).toBe(handed);
    // The failed POST made room: the next batch went out and one more record is taken.
    queue.append(writeLine, "after");
    expect(tally.queue_full).toBe(75);
  });

  it("drops a record that cannot be encoded without harming the batch, and counts it", async () => {
    const { tally, onDrop } = createDropTally();
    const taking = createTakingPoster();
    const queue = makeQueue(taking.poster, { onDrop });
    const failing = (batch: RecordBatch, line: string) => {
      beginLogRecord(batch, 1767225600000, 9, "INFO", line);
      throw new Error("not encodable");
    };
    queue.append(writeLine, "before");
    queue.append(failing, "half");
    queue.append(writeLine, "after");
    await queue.flush();
    expect(taking.bodies.map(bodiesOf)).toEqual([["before", "after"]]);
    expect(tally).toEqual({ export_failed: 1 });
  });

  it("shutdown sends what is pending, closes the poster and ignores later records", async () => {
    const stalled = createStalledPoster();
    const queue = makeQueue(stalled.poster);
    queue.append(writeLine, "last");
    const done = queue.shutdown();
    expect(stalled.bodies.map(bodiesOf)).toEqual([["last"]]);
    stalled.release();
    await done;
    expect(stalled.shutDown()).toBe(true);
    queue.append(writeLine, "too late");
    await queue.flush();
    expect(stalled.bodies).toHaveLength(1);
  });
});
