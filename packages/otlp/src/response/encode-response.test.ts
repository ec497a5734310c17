// The response bodies must be what OTLP exporters parse: checked with the official SDK's response parsers for
// every signal and format, and against hand-assembled bytes for google.rpc.Status.
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import { encodeExportResponse, encodeStatus } from "./encode-response.ts";

const parsers = {
  traces: { protobuf: ProtobufTraceSerializer, json: JsonTraceSerializer, field: "rejectedSpans" },
  metrics: { protobuf: ProtobufMetricsSerializer, json: JsonMetricsSerializer, field: "rejectedDataPoints" },
  logs: { protobuf: ProtobufLogsSerializer, json: JsonLogsSerializer, field: "rejectedLogRecords" },
} as const;

describe.each(["traces", "metrics", "logs"] as const)("encodeExportResponse (%s)", (signal) => {
  const { field } = parsers[signal];

  it("is the empty message when everything was accepted", () => {
    expect(encodeExportResponse(signal, "protobuf")).toHaveLength(0);
    expect(parsers[signal].protobuf.deserializeResponse(encodeExportResponse(signal, "protobuf"))).toEqual({});
    expect(new TextDecoder().decode(encodeExportResponse(signal, "json", { rejected: 0, errorMessage: "" }))).toBe("{}");
  });

  it("carries partial success as the SDK reads it, protobuf and JSON", () => {
    const partial = { rejected: 300, errorMessage: "resourceSpans[0].scopeSpans[0].spans[1]: spanId is invalid — é" };
    expect(parsers[signal].protobuf.deserializeResponse(encodeExportResponse(signal, "protobuf", partial))).toEqual({
      partialSuccess: { [field]: 300, errorMessage: partial.errorMessage },
    });
    // proto3 JSON writes int64 as a decimal string.
    expect(parsers[signal].json.deserializeResponse(encodeExportResponse(signal, "json", partial))).toEqual({
      partialSuccess: { [field]: "300", errorMessage: partial.errorMessage },
    });
  });

  it("sends a warning (nothing rejected, a message) as partial success without a count", () => {
    expect(parsers[signal].protobuf.deserializeResponse(encodeExportResponse(signal, "protobuf", { rejected: 0, errorMessage: "slow down" }))).toEqual({
      partialSuccess: { errorMessage: "slow down" },
    });
  });
});

describe("encodeStatus", () => {
  it("writes google.rpc.Status{code=1, message=2}", () => {
    expect(Array.from(encodeStatus({ code: 3, message: "x" }))).toEqual([0x08, 0x03, 0x12, 0x01, 0x78]);
    expect(Array.from(encodeStatus({ code: 14, message: "" }))).toEqual([0x08, 0x0e]);
  });
});
