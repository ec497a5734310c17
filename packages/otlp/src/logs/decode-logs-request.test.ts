// Decoding is checked against what the official OpenTelemetry JS serializers put on the wire, in both formats,
// for log records made by the real SDK.
import { JsonLogsSerializer, ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import { makeSdkLogs, SPAN_ID, TRACE_ID } from "../testing/sdk-logs.ts";
import { decodeLogsRequest } from "./decode-logs-request.ts";

const serializers = { protobuf: ProtobufLogsSerializer, json: JsonLogsSerializer } as const;

describe.each(["protobuf", "json"] as const)("decodeLogsRequest (%s, official SDK serializer)", (format) => {
  it("keeps body, severity, attributes, trace context and resource", () => {
    const body = serializers[format].serializeRequest(makeSdkLogs());
    if (!body) throw new Error("the serializer returned nothing");
    const decoded = decodeLogsRequest(body, format);
    expect(decoded.errors).toEqual([]);
    expect(decoded.logs).toHaveLength(2);
    expect(decoded.logs[0]).toMatchObject({
      serviceName: "cart",
      serviceNamespace: "shop",
      scopeName: "access-log",
      timeUnixNano: 1767225600123000000n,
      severityNumber: 13,
      severityText: "WARN",
      body: '[2026-01-01T00:00:00.123Z] "GET /cart HTTP/1.1" 503 UF',
      attributes: { method: "GET", response_code: 503, response_flags: "UF", attempt_count: 2 },
      traceId: TRACE_ID,
      spanId: SPAN_ID,
    });
    // No timestamp given: the SDK sets the observed time, which becomes the record's time.
    expect(decoded.logs[1]).toMatchObject({ body: { structured: ["a", 1] }, severityNumber: 9, severityText: null, traceId: null, spanId: null });
    expect(decoded.logs[1]?.timeUnixNano).toBe(decoded.logs[1]?.observedTimeUnixNano);
  });
});

describe("decodeLogsRequest validation", () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it("rejects records without any time or with a bad trace id, keeping the rest", () => {
    const body = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: "5", severityNumber: "SEVERITY_NUMBER_ERROR", body: { stringValue: "ok" } },
                { body: { stringValue: "no time" } },
                { observedTimeUnixNano: "7", traceId: "abc" },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeLogsRequest(encode(body), "json");
    expect(decoded.logs).toEqual([expect.objectContaining({ body: "ok", severityNumber: 17, timeUnixNano: 5n })]);
    expect(decoded.rejectedLogRecords).toBe(2);
    expect(decoded.errors).toEqual([
      "resourceLogs[0].scopeLogs[0].logRecords[1]: timeUnixNano and observedTimeUnixNano are both missing (one is required)",
      'resourceLogs[0].scopeLogs[0].logRecords[2]: traceId "abc" is invalid (expected empty or 16 bytes, 32 hex characters)',
    ]);
  });

  it("refuses an undecodable body with a clear message", () => {
    expect(() => decodeLogsRequest(new Uint8Array([0x0f, 1]), "protobuf")).toThrow(/^protobuf body is not an ExportLogsServiceRequest: invalid wire type 7/);
    expect(() => decodeLogsRequest(encode({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: "LOUD" }] }] }] }), "json")).toThrow(
      /^JSON body: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.severityNumber must be an integer or one of SEVERITY_NUMBER_UNSPECIFIED/,
    );
  });
});
