// The SDK's batch processors drop spans and log records silently when their queue is full. These wrappers keep
// their own count of what is queued (handed to the processor, not yet handed to the exporter) and refuse — and
// count — an item before the SDK's queue could be full, so no loss goes unseen; failed exports are counted too.
import type { Context } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, SdkLogRecord } from "@opentelemetry/sdk-logs";
import { TraceFlags } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { DropReason } from "./metric-store.ts";

export type OnDrop = (reason: DropReason, count: number) => void;

/** Items accepted and not yet taken by the exporter; `admit` is false (and counted) once `capacity` are waiting. */
export function createQueueGauge(capacity: number, onDrop: OnDrop) {
  let queued = 0;
  return {
    admit(): boolean {
      if (queued >= capacity) {
        onDrop("queue_full", 1);
        return false;
      }
      queued += 1;
      return true;
    },
    taken(count: number): void {
      queued = Math.max(0, queued - count);
    },
    queued: () => queued,
  };
}

type Gauge = ReturnType<typeof createQueueGauge>;

function settle(count: number, onDrop: OnDrop, done: (result: ExportResult) => void): (result: ExportResult) => void {
  return (result) => {
    if (result.code !== ExportResultCode.SUCCESS) onDrop("export_failed", count);
    done(result);
  };
}

export function countSpanExports(exporter: SpanExporter, gauge: Gauge, onDrop: OnDrop): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      gauge.taken(spans.length);
      exporter.export(spans, settle(spans.length, onDrop, done));
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Wraps a BatchSpanProcessor whose exporter was wrapped with countSpanExports around the same gauge. */
export function guardSpanProcessor(processor: SpanProcessor, gauge: Gauge): SpanProcessor {
  return {
    onStart: (span: Span, parent: Context) => processor.onStart(span, parent),
    onEnd(span: ReadableSpan) {
      // The batch processor ignores unsampled spans; they must not count as queued either.
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      if (gauge.admit()) processor.onEnd(span);
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}

export function countLogExports(exporter: LogRecordExporter, gauge: Gauge, onDrop: OnDrop): LogRecordExporter {
  return {
    export(logs: ReadableLogRecord[], done: (result: ExportResult) => void) {
      gauge.taken(logs.length);
      exporter.export(logs, settle(logs.length, onDrop, done));
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

export function guardLogProcessor(processor: LogRecordProcessor, gauge: Gauge): LogRecordProcessor {
  return {
    onEmit(record: SdkLogRecord, context?: Context) {
      if (gauge.admit()) processor.onEmit(record, context);
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}
