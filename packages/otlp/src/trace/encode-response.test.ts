// The response bodies must be what OTLP exporters parse: checked with the official SDK's response parser and
// against hand-assembled bytes for google.rpc.Status.
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import { encodeStatus, encodeTraceResponse } from "./encode-response.ts";

describe("encodeTraceResponse", () => {
  it("is empty when everything was accepted", () => {
    expect(encodeTraceResponse()).toHaveLength(0);
    expect(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse())).toEqual({});
  });

  it("carries partial success as the SDK reads it", () => {
    const body = encodeTraceResponse({ rejectedSpans: 2, errorMessage: "resourceSpans[0].scopeSpans[0].spans[1]: spanId is invalid" });
    expect(ProtobufTraceSerializer.deserializeResponse(body)).toEqual({
      partialSuccess: { rejectedSpans: 2, errorMessage: "resourceSpans[0].scopeSpans[0].spans[1]: spanId is invalid" },
    });
  });
});

describe("encodeStatus", () => {
  it("writes google.rpc.Status{code=1, message=2}", () => {
    expect(Array.from(encodeStatus({ code: 3, message: "x" }))).toEqual([0x08, 0x03, 0x12, 0x01, 0x78]);
  });
});
