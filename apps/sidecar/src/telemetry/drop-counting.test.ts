import { ROOT_CONTEXT } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { BatchSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { countLogExports, countSpanExports, createQueueGauge, guardLogProcessor, guardSpanProcessor } from "./drop-counting.ts";
import type { DropReason } from "./metric-store.ts";

/** An exporter that holds every batch until released (a stalled collector), then answers with `result`. */
function createStalledExporter<T>(result: ExportResult["code"]) {
  const held: { items: T[]; done: (result: ExportResult) => void }[] = [];
  return {
    held,
    export(items: T[], done: (result: ExportResult) => void) {
      held.push({ items, done });
    },
    release() {
      for (const batch of held.splice(0)) batch.done({ code: result });
    },
    exported: () => held.reduce((n, batch) => n + batch.items.length, 0),
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
}

function createDropTally() {
  const tally: Partial<Record<DropReason, number>> = {};
  return { tally, onDrop: (reason: DropReason, count: number) => (tally[reason] = (tally[reason] ?? 0) + count) };
}

describe("span drop counting", () => {
  it("counts every span the full queue refuses, and the spans of a failed export", async () => {
    const { tally, onDrop } = createDropTally();
    const stalled = createStalledExporter<ReadableSpan>(ExportResultCode.FAILED);
    const gauge = createQueueGauge(20, onDrop);
    const batch = new BatchSpanProcessor({ exporter: countSpanExports(stalled, gauge, onDrop), maxQueueSize: 20, maxExportBatchSize: 5, scheduledDelayMillis: 60_000 });
    const provider = new TracerProvider({ resource: resourceFromAttributes({}), spanProcessors: [guardSpanProcessor(batch, gauge)] });
    const tracer = provider.getTracer("test");
    for (let i = 0; i < 100; i += 1) tracer.startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
    // Every span is either handed to the (stalled) exporter, still queued, or counted as dropped — none lost silently.
    expect(stalled.exported() + gauge.queued() + (tally.queue_full ?? 0)).toBe(100);
    expect(tally.queue_full).toBeGreaterThan(0);
    const handed = stalled.exported();
    stalled.release();
    expect(tally.export_failed).toBe(handed);
  });

  it("does not count unsampled spans as queued", () => {
    const { tally, onDrop } = createDropTally();
    const gauge = createQueueGauge(1, onDrop);
    const stalled = createStalledExporter<ReadableSpan>(ExportResultCode.SUCCESS);
    const batch = new BatchSpanProcessor({ exporter: countSpanExports(stalled, gauge, onDrop), maxQueueSize: 1, maxExportBatchSize: 1, scheduledDelayMillis: 60_000 });
    const processor = guardSpanProcessor(batch, gauge);
    const unsampled = { spanContext: () => ({ traceId: "1".repeat(32), spanId: "1".repeat(16), traceFlags: 0 }) } as unknown as ReadableSpan;
    for (let i = 0; i < 10; i += 1) processor.onEnd(unsampled);
    expect(gauge.queued()).toBe(0);
    expect(tally).toEqual({});
  });
});

describe("log drop counting", () => {
  it("counts log records refused by the full queue", () => {
    const { tally, onDrop } = createDropTally();
    const stalled = createStalledExporter<ReadableLogRecord>(ExportResultCode.SUCCESS);
    const gauge = createQueueGauge(10, onDrop);
    const batch = new BatchLogRecordProcessor({ exporter: countLogExports(stalled, gauge, onDrop), maxQueueSize: 10, maxExportBatchSize: 5, scheduledDelayMillis: 60_000 });
    const logger = new LoggerProvider({ processors: [guardLogProcessor(batch, gauge)] }).getLogger("test");
    for (let i = 0; i < 50; i += 1) logger.emit({ body: `line ${i}` });
    expect(stalled.exported() + gauge.queued() + (tally.queue_full ?? 0)).toBe(50);
    expect(tally.queue_full).toBeGreaterThanOrEqual(30);
    stalled.release();
    expect(tally.export_failed).toBeUndefined();
  });
});
