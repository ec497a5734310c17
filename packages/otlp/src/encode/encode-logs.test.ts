// The hand-written logs encoder against the official serializer as the oracle: SDK log records encoded by both
// must decode to the same message (every field, defaults included) and the same entries through this package.
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { describe, expect, it } from "vitest";
import { decodeLogsRequest } from "../logs/decode-logs-request.ts";
import { encodeResource, encodeScope } from "./encode-common.ts";
import { encodeLogsExport } from "./encode-logs.ts";
import { decodeToPlainObject } from "./testing-decode.ts";

function makeSdkLogs(count = 0): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const resource = resourceFromAttributes({ "service.name": "cart", "service.namespace": "shop", "service.instance.id": "cart-v1-0" });
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })], logRecordLimits: { attributeCountLimit: 40 } });
  const logger = provider.getLogger("@trellis/sidecar/access-log", "1.0.0");
  const sampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: "80f198ee56343ba864fe8b2a57d3eff7", spanId: "e457b5a2e4d86bd1", traceFlags: TraceFlags.SAMPLED });
  const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.NONE });
  logger.emit({
    timestamp: 1767225600123,
    severityNumber: SeverityNumber.WARN,
    severityText: "WARN",
    body: '[2026-01-01T00:00:00.123Z] "GET /cart/ü HTTP/1.1" 503 UF,URX',
    attributes: { method: "GET", response_code: 503, response_flags: "UF,URX", attempt_count: 2, duration: 12, ratio: 0.5, mtls: true, ids: ["a", "b"] },
    context: sampled,
  });
  logger.emit({ body: { structured: ["a", 1, { deep: null }] }, severityNumber: SeverityNumber.INFO, context: unsampled, eventName: "trellis.event" });
  logger.emit({ timestamp: [1767225600, 999999999], attributes: { big: 2 ** 60, negative: -7, bytes: new Uint8Array([1, 2, 3]) } });
  for (let i = 0; i < count; i += 1) logger.emit({ body: `line ${i} ${"x".repeat(i % 300)}`, severityText: "INFO", severityNumber: SeverityNumber.INFO, attributes: { i, path: `/p/${i}` } });
  return memory.getFinishedLogRecords();
}

function encodeOurs(records: ReadableLogRecord[]): Uint8Array {
  const first = records[0];
  if (first === undefined) throw new Error("no records");
  const scope = first.instrumentationScope;
  return encodeLogsExport(encodeResource(first.resource.attributes), encodeScope(scope.name, scope.version), records);
}

function encodeOfficial(records: ReadableLogRecord[]): Uint8Array {
  const bytes = ProtobufLogsSerializer.serializeRequest(records);
  if (bytes === undefined) throw new Error("the official serializer returned nothing");
  return bytes;
}

describe("encodeLogsExport (official serializer as the oracle)", () => {
  it("encodes time, observed time, severity, body, attributes, trace context and event name as the official serializer does", () => {
    const records = makeSdkLogs();
    const ours = encodeOurs(records);
    expect(decodeToPlainObject("logs", ours)).toEqual(decodeToPlainObject("logs", encodeOfficial(records)));
    const decoded = decodeLogsRequest(ours, "protobuf");
    expect(decoded).toEqual(decodeLogsRequest(encodeOfficial(records), "protobuf"));
    expect(decoded.logs[0]).toMatchObject({ traceId: "80f198ee56343ba864fe8b2a57d3eff7", spanId: "e457b5a2e4d86bd1", severityNumber: 13, severityText: "WARN" });
    expect(decoded.logs[1]).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", eventName: "trellis.event" });
    expect(ours.length).toBeLessThanOrEqual(encodeOfficial(records).length);
  });

  it("encodes a batch of 600 records with bodies past 128 bytes as the official serializer does", () => {
    const records = makeSdkLogs(600);
    expect(decodeToPlainObject("logs", encodeOurs(records))).toEqual(decodeToPlainObject("logs", encodeOfficial(records)));
  });
});
