// Test oracle (protobufjs): reads an OTLP/protobuf ExportTraceServiceRequest into format-independent span inputs.
import { AppError } from "@trellis/runtime";
import { bytesToHex, longToUnsigned, toAttributes } from "./protobuf-values.ts";
import { cleanString } from "../../common/clean-string.ts";
import { decodeExportTraceServiceRequest, type WireExportTraceServiceRequest, type WireSpan } from "./schema.ts";
import type { ResourceSpansInput, SpanInput } from "../../trace/to-span-records.ts";

export function readProtobufTraces(body: Uint8Array): ResourceSpansInput[] {
  const request = decodeProtobuf(body);
  return request.resourceSpans.map((resourceSpans, r) => ({
    resourceAttributes: toAttributes(resourceSpans.resource?.attributes ?? []),
    spans: resourceSpans.scopeSpans.flatMap((scopeSpans, s) => scopeSpans.spans.map((span, i) => toSpanInput(span, cleanString(scopeSpans.scope?.name ?? ""), [r, s, i]))),
  }));
}

function decodeProtobuf(body: Uint8Array): WireExportTraceServiceRequest {
  try {
    return decodeExportTraceServiceRequest(body);
  } catch (error) {
    // Anything the decoder throws (malformed wire data, nesting past its recursion limit) is the body's fault.
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("BAD_REQUEST", `protobuf body is not an ExportTraceServiceRequest: ${reason}${hintForFormat(body)}`, { cause: error });
  }
}

function hintForFormat(body: Uint8Array): string {
  const first = body.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  if (first === 0x7b) return " (the body looks like JSON; send it with Content-Type: application/json)";
  return "";
}

function toSpanInput(span: WireSpan, scopeName: string, position: SpanInput["position"]): SpanInput {
  return {
    position,
    traceId: bytesToHex(span.traceId),
    spanId: bytesToHex(span.spanId),
    parentSpanId: bytesToHex(span.parentSpanId),
    name: cleanString(span.name),
    kind: span.kind,
    startTimeUnixNano: longToUnsigned(span.startTimeUnixNano),
    endTimeUnixNano: longToUnsigned(span.endTimeUnixNano),
    attributes: toAttributes(span.attributes),
    events: span.events.map((event) => ({
      name: cleanString(event.name),
      timeUnixNano: longToUnsigned(event.timeUnixNano),
      attributes: toAttributes(event.attributes),
    })),
    links: span.links.map((link) => ({
      traceId: bytesToHex(link.traceId),
      spanId: bytesToHex(link.spanId),
      traceState: cleanString(link.traceState),
      attributes: toAttributes(link.attributes),
    })),
    statusCode: span.status?.code ?? 0,
    statusMessage: cleanString(span.status?.message ?? ""),
    scopeName,
  };
}
