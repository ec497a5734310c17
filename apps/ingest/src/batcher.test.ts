// The batcher's group-commit rules, with a store whose writes the test completes by hand: when a write starts,
// what it holds, when each request is answered, and how a full queue and a failed write are refused.
import { describe, expect, it } from "vitest";
import type { TelemetryBatch } from "@trellis/db";
import type { SpanRecord } from "@trellis/otlp";
import { Batcher } from "./batcher.ts";
import { RetryLaterError } from "./retry-later.ts";

type PendingWrite = { names: string[]; finish: () => void; fail: (error: unknown) => void };

/** A store whose writes stay in flight until the test finishes or fails them. */
function manualStore() {
  const writes: PendingWrite[] = [];
  const write = (batch: TelemetryBatch) =>
    new Promise<void>((resolve, reject) => {
      writes.push({ names: batch.spans.map((s) => s.name), finish: resolve, fail: reject });
    });
  return { writes, write };
}

function spans(...names: string[]): TelemetryBatch {
  const span = (name: string): SpanRecord => ({
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    parentSpanId: null,
    serviceName: "frontend",
    serviceNamespace: null,
    serviceVersion: null,
    scopeName: null,
    name,
    kind: 2,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    statusCode: 0,
    statusMessage: null,
    httpStatusCode: null,
    attributes: {},
    resourceAttributes: {},
    events: [],
    links: [],
  });
  return { spans: names.map(span), logs: [], metricPoints: [] };
}

/** Lets promise callbacks run (settled() then sees what has been answered so far). */
const flush = () => new Promise((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

describe("Batcher", () => {
  it("writes a request at once when a writer is free, and answers only after the write committed", async () => {
    const store = manualStore();
    const batcher = new Batcher({ write: store.write, maxQueueItems: 100, writers: 2 });
    const answer = track(batcher.submit(spans("a")));
    expect(store.writes.map((w) => w.names)).toEqual([["a"]]);
    await flush();
    expect(answer.settled).toBe(false);
    store.writes[0]?.finish();
    await flush();
    expect(answer).toEqual({ value: undefined, settled: true });
    expect(batcher.queuedItems).toBe(0);
  });

  it("merges requests that arrive while every writer is busy into the next write, up to the write size", async () => {
    const store = manualStore();
    const batcher = new Batcher({ write: store.write, maxQueueItems: 100, writers: 2, maxWriteItems: 3 });
    const answers = ["a", "b", "c", "d", "e", "f"].map((name) => track(batcher.submit(spans(name))));
    const big = track(batcher.submit(spans("g1", "g2", "g3", "g4")));
    expect(store.writes.map((w) => w.names)).toEqual([["a"], ["b"]]);
    expect(batcher.queuedItems).toBe(10);
    store.writes[0]?.finish();
    await flush();
    expect(store.writes.map((w) => w.names)).toEqual([["a"], ["b"], ["c", "d", "e"]]);
    expect(answers.map((a) => a.settled)).toEqual([true, false, false, false, false, false]);
    store.writes[1]?.finish();
    await flush();
    // A request larger than the write size is still written whole, alone.
    expect(store.writes.map((w) => w.names).slice(3)).toEqual([["f"]]);
    store.writes[3]?.finish();
    await flush();
    expect(store.writes.map((w) => w.names).slice(4)).toEqual([["g1", "g2", "g3", "g4"]]);
    store.writes[2]?.finish();
    store.writes[4]?.finish();
    await flush();
    expect([...answers, big].every((a) => a.settled && a.error === undefined)).toBe(true);
  });

  it("refuses every request of a failed write as retryable (503) when Postgres is unreachable", async () => {
    const store = manualStore();
    const batcher = new Batcher({ write: store.write, maxQueueItems: 100, writers: 1 });
    const first = track(batcher.submit(spans("a")));
    const merged = [track(batcher.submit(spans("b"))), track(batcher.submit(spans("c")))];
    store.writes[0]?.finish();
    await flush();
    store.writes[1]?.fail(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
    await flush();
    expect(first.error).toBeUndefined();
    for (const answer of merged) {
      expect(answer.error).toBeInstanceOf(RetryLaterError);
      expect(answer.error).toMatchObject({ httpStatus: 503, retryAfterSeconds: 5, message: "the telemetry store (Postgres) is unavailable; retry later" });
    }
    expect(batcher.queuedItems).toBe(0);
  });

  it("answers a write Postgres rejected for its data with a non-retryable internal error", async () => {
    const store = manualStore();
    const batcher = new Batcher({ write: store.write, maxQueueItems: 100, writers: 1 });
    const answer = track(batcher.submit(spans("a")));
    store.writes[0]?.fail(Object.assign(new Error("value too long"), { code: "22001" }));
    await flush();
    expect(answer.error).toMatchObject({ code: "INTERNAL", httpStatus: 500, message: "storing telemetry failed (SQLSTATE 22001)" });
  });

  it("refuses a request that would overflow the queue at once with 429, and takes it again once there is room", async () => {
    const store = manualStore();
    const batcher = new Batcher({ write: store.write, maxQueueItems: 4, writers: 1 });
    track(batcher.submit(spans("a", "b", "c")));
    const refused = track(batcher.submit(spans("d", "e")));
    await flush();
    expect(refused.error).toBeInstanceOf(RetryLaterError);
    expect(refused.error).toMatchObject({
      httpStatus: 429,
      retryAfterSeconds: 1,
      message: "ingest is at capacity (3 items waiting to be stored, limit 4, TRELLIS_INGEST_QUEUE_ITEMS); retry after the Retry-After delay",
    });
    expect(batcher.queuedItems).toBe(3);
    store.writes[0]?.finish();
    await flush();
    // An empty queue takes even a request larger than the limit, so it is slow rather than refused forever.
    const large = track(batcher.submit(spans("f", "g", "h", "i", "j")));
    expect(store.writes.map((w) => w.names)[1]).toEqual(["f", "g", "h", "i", "j"]);
    store.writes[1]?.finish();
    await flush();
    expect(large.settled && large.error === undefined).toBe(true);
  });

  it("drains: refuses new requests and resolves once everything accepted is written", async () => {
    const store = manualStore();
    const batcher = new Batcher({ write: store.write, maxQueueItems: 100, writers: 1 });
    const accepted = track(batcher.submit(spans("a")));
    const drained = track(batcher.drain());
    const late = track(batcher.submit(spans("b")));
    await flush();
    expect([drained.settled, late.error]).toEqual([false, expect.objectContaining({ httpStatus: 503, message: "ingest is shutting down; retry in a moment" })]);
    store.writes[0]?.finish();
    await flush();
    expect([accepted.settled, drained.settled]).toEqual([true, true]);
    expect(store.writes).toHaveLength(1);
  });
});
