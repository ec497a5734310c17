import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { decodeLogsRequest, encodeLogsExport, encodeResource, encodeScope, startLogsBatch, type LogEntry, type RecordBatch } from "@trellis/otlp";
import { describe, expect, it } from "vitest";
import { buildRequestAttributes, buildTcpAttributes, formatRequestLine, formatTcpLine, severityOf } from "./access-log.ts";
import { LOGGER_NAME, writeRequestLog, writeTcpLog } from "./log-export.ts";
import type { RequestRecord, TcpRecord } from "./records.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";

const resource = encodeResource({ "service.name": "checkout", "service.namespace": "shop" });
const scope = encodeScope(LOGGER_NAME);

function encodeOurs<R>(write: (batch: RecordBatch, record: R) => void, records: R[]): { entries: LogEntry[]; before: bigint; after: bigint } {
  const batch = startLogsBatch({ resource, scope }, 1024);
  const before = BigInt(Date.now()) * 1_000_000n;
  for (const record of records) write(batch, record);
  const after = BigInt(Date.now()) * 1_000_000n;
  expect(batch.count).toBe(records.length);
  return { entries: decodeLogsRequest(batch.seal(), "protobuf").logs, before, after };
}

/** The path this replaces: an SDK LoggerProvider's records as telemetry/index.ts emitted them, encoded by encodeLogsExport. */
function encodeAsSdk(emit: (logger: ReturnType<LoggerProvider["getLogger"]>) => void): LogEntry[] {
  const memory = new InMemoryLogRecordExporter();
  const logger = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] }).getLogger(LOGGER_NAME);
  emit(logger);
  return decodeLogsRequest(encodeLogsExport(resource, scope, memory.getFinishedLogRecords()), "protobuf").logs;
}

const withoutObservedTime = (entries: LogEntry[]) => entries.map(({ observedTimeUnixNano: _observed, ...rest }) => rest);

describe("writeRequestLog", () => {
  const records: RequestRecord[] = [
    makeRequestRecord({ spanContext: { traceId: "80f198ee56343ba864fe8b2a57d3eff7", spanId: "e457b5a2e4d86bd1", sampled: true, traceState: undefined, remote: false } }),
    makeRequestRecord({
      status: 503,
      flags: ["UF", "URX"],
      grpcStatus: 14,
      upstreamServiceTimeMs: 7.25,
      xForwardedFor: "10.0.0.1",
      responseCodeDetails: "upstream_reset_before_response_started",
      downstreamLocalAddress: "127.0.0.1:15001",
      spanContext: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: false, traceState: "vendor=x", remote: false },
    }),
    makeRequestRecord({ status: null, userAgent: null, requestId: null, source: null, destination: null, spanContext: null, path: "/ü/日本" }),
  ];

  it("writes what the SDK path exported for the same records: time, severity, body, attributes, trace and span ids", () => {
    const { entries, before, after } = encodeOurs(writeRequestLog, records);
    const sdk = encodeAsSdk((logger) => {
      for (const r of records) {
        const context = r.spanContext ? trace.setSpanContext(ROOT_CONTEXT, { traceId: r.spanContext.traceId, spanId: r.spanContext.spanId, traceFlags: r.spanContext.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE }) : undefined;
        logger.emit({ timestamp: r.startTimeMs, ...severityOf(r.status), body: formatRequestLine(r), attributes: buildRequestAttributes(r), context });
      }
    });
    expect(withoutObservedTime(entries)).toEqual(withoutObservedTime(sdk));
    expect(entries[1]).toMatchObject({ severityNumber: 13, severityText: "WARN", traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", attributes: expect.objectContaining({ upstream_service_time: 7.25, grpc_status: 14 }) });
    expect(entries[2]).toMatchObject({ traceId: null, spanId: null });
    for (const entry of entries) {
      expect(entry.observedTimeUnixNano).toBeGreaterThanOrEqual(before);
      expect(entry.observedTimeUnixNano).toBeLessThanOrEqual(after);
    }
  });
});

describe("writeTcpLog", () => {
  const records: TcpRecord[] = [makeTcpRecord(), makeTcpRecord({ flags: ["UF"], source: { workload: "checkout-v1", app: "checkout", version: "v1", namespace: "shop" }, requestedServerName: "redis.shop" })];

  it("writes what the SDK path exported: INFO, WARN when flagged, no trace context", () => {
    const { entries } = encodeOurs(writeTcpLog, records);
    const sdk = encodeAsSdk((logger) => {
      for (const r of records) logger.emit({ timestamp: r.startTimeMs, ...severityOf(r.flags.length > 0 ? null : 0), body: formatTcpLine(r), attributes: buildTcpAttributes(r) });
    });
    expect(withoutObservedTime(entries)).toEqual(withoutObservedTime(sdk));
    expect(entries.map((e) => [e.severityText, e.traceId])).toEqual([
      ["INFO", null],
      ["WARN", null],
    ]);
  });
});
