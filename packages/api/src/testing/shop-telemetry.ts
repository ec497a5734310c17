// Test data for the API's integration tests, stored through the real telemetry write path (createTelemetryStore):
// calls as an OpenTelemetry SDK reports them — a CLIENT span in the caller and the SERVER span it caused — which
// the store pairs into RED rollup edges, plus access-log records. Times are relative to the real clock, since the
// procedures read "the last N seconds".
import { randomBytes } from "node:crypto";
import { createTelemetryStore } from "@trellis/db";
import type { Attributes, LogEntry, SpanRecord } from "@trellis/otlp";
import type pg from "pg";

export type Call = { caller: string; callee: string; calleeVersion?: string; at: Date; durationMs?: number; failed?: boolean };

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function span(fields: Pick<SpanRecord, "traceId" | "spanId" | "parentSpanId" | "serviceName" | "kind"> & { version: string; at: Date; durationMs: number; failed: boolean }): SpanRecord {
  const start = BigInt(fields.at.getTime()) * 1_000_000n;
  return {
    traceId: fields.traceId,
    spanId: fields.spanId,
    parentSpanId: fields.parentSpanId,
    serviceName: fields.serviceName,
    serviceNamespace: "default",
    serviceVersion: fields.version,
    scopeName: "app",
    name: "GET /",
    kind: fields.kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(Math.round(fields.durationMs * 1e6)),
    statusCode: fields.failed ? 2 : 0,
    statusMessage: null,
    httpStatusCode: fields.failed ? 503 : 200,
    attributes: { "http.route": "/" },
    resourceAttributes: {},
    events: [],
    links: [],
  };
}

/** [client span, server span] of one call, in a new trace. */
export function callSpans({ caller, callee, calleeVersion = "v1", at, durationMs = 20, failed = false }: Call): SpanRecord[] {
  const traceId = hex(16);
  const clientId = hex(8);
  const common = { traceId, at, durationMs, failed };
  return [
    span({ ...common, spanId: clientId, parentSpanId: null, serviceName: caller, version: "v1", kind: 3 }),
    span({ ...common, spanId: hex(8), parentSpanId: clientId, serviceName: callee, version: calleeVersion, kind: 2 }),
  ];
}

export function accessLog(service: string, at: Date, attributes: Attributes): LogEntry {
  const time = BigInt(at.getTime()) * 1_000_000n;
  return {
    serviceName: service,
    serviceNamespace: "default",
    serviceVersion: "v1",
    resourceAttributes: {},
    scopeName: "access-log",
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber: 9,
    severityText: "INFO",
    body: "",
    attributes,
    traceId: null,
    spanId: null,
    eventName: null,
  };
}

/** Stores the spans and logs and records every span pair's edge at once. */
export async function storeTelemetry(pool: pg.Pool, spans: SpanRecord[], logs: LogEntry[] = []): Promise<void> {
  const store = createTelemetryStore(pool, { edgeWaitMs: 0 });
  await store.write({ spans, logs, metricPoints: [] });
  await store.tick();
}
