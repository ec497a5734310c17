// Decoding is checked against what the official OpenTelemetry JS serializers put on the wire, in both formats.
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { isAppError } from "@trellis/runtime";
import type { SpanRecord } from "../span-record.ts";
import { hrTimeToNanos, makeExoticSpan, makeSdkSpans } from "../testing/sdk-spans.ts";
import { decodeTraceRequest, type OtlpFormat } from "./decode-trace-request.ts";

const serializers = { protobuf: ProtobufTraceSerializer, json: JsonTraceSerializer } as const;

function serialize(format: OtlpFormat, spans: ReadableSpan[]): Uint8Array {
  const body = serializers[format].serializeRequest(spans);
  if (!body) throw new Error(`the ${format} serializer returned nothing`);
  return body;
}

/** What a ReadableSpan should become, derived from the SDK's own view of it. */
function expectedRecord(span: ReadableSpan): SpanRecord {
  const resource = span.resource.attributes;
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    serviceName: String(resource["service.name"]),
    serviceNamespace: String(resource["service.namespace"]),
    serviceVersion: String(resource["service.version"]),
    scopeName: span.instrumentationScope.name,
    name: span.name,
    kind: span.kind + 1, // the API's SpanKind has no UNSPECIFIED, OTLP's does
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    statusCode: span.status.code,
    statusMessage: span.status.message ?? null,
    httpStatusCode: Number(span.attributes["http.response.status_code"] ?? span.attributes["http.status_code"]),
    attributes: { ...span.attributes } as SpanRecord["attributes"],
    resourceAttributes: { ...resource } as SpanRecord["resourceAttributes"],
    events: span.events.map((event) => ({ name: event.name, timeUnixNano: hrTimeToNanos(event.time), attributes: { ...event.attributes } as SpanRecord["attributes"] })),
    links: span.links
      .filter((link) => link.context.spanId !== "0000000000000000")
      .map((link) => ({
        traceId: link.context.traceId,
        spanId: link.context.spanId,
        traceState: link.context.traceState?.serialize() ?? null,
        attributes: { ...link.attributes } as SpanRecord["attributes"],
      })),
  };
}

function catchError(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error("expected an error, none was thrown");
}

describe.each(["protobuf", "json"] as const)("decodeTraceRequest (%s, official SDK serializer)", (format) => {
  it("round-trips every field of SDK-made spans", async () => {
    const spans = await makeSdkSpans();
    expect(spans).toHaveLength(3);
    const decoded = decodeTraceRequest(serialize(format, spans), format);
    expect(decoded.rejectedSpans).toBe(0);
    expect(decoded.errors).toEqual([]);
    const byId = new Map(decoded.spans.map((span) => [span.spanId, span]));
    for (const span of spans) {
      const expected = expectedRecord(span);
      if (Number.isNaN(expected.httpStatusCode)) expected.httpStatusCode = null;
      expect(byId.get(span.spanContext().spanId)).toEqual(expected);
    }
    const server = decoded.spans.find((span) => span.name === "GET /cart");
    expect(server).toMatchObject({ kind: 2, statusCode: 2, statusMessage: "upstream reset", httpStatusCode: 503, serviceName: "checkout", serviceVersion: "1.4.2" });
    expect(server?.startTimeUnixNano).toBe(1767225600123456789n);
    expect(server?.scopeName).toBe("trellis-test");
    // The link with an all-zero span id is dropped; the span and its valid link are kept.
    expect(server?.links).toEqual([
      { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceState: "congo=t61rcWkgMzE", attributes: { "link.reason": "batch", "messaging.batch.message_count": 3 } },
    ]);
    expect(decoded.spans.find((span) => span.name === "SELECT carts")).toMatchObject({ kind: 3, statusCode: 1, httpStatusCode: 200, parentSpanId: server?.spanId });
    expect(decoded.spans.find((span) => span.name === "render")).toMatchObject({ kind: 1, statusCode: 0, statusMessage: null, httpStatusCode: null });
  });

  it("maps bytes, maps, int64 beyond 2^53, NaN and storable strings", () => {
    const decoded = decodeTraceRequest(serialize(format, [makeExoticSpan()]), format);
    const [span] = decoded.spans;
    expect(span?.name).toBe("exotic\uFFFDname");
    expect(span?.kind).toBe(4);
    expect(span?.parentSpanId).toBeNull();
    expect(span?.serviceName).toBe("unknown_service");
    expect(span?.serviceNamespace).toBeNull();
    expect(span?.endTimeUnixNano).toBe(1767225601000000005n);
    expect(span?.attributes).toEqual({
      bytes: "AAEC+g==",
      nested: { inner: { deep: [1, "two", true] }, count: 3 },
      big: "1152921504606846976",
      negative: -42,
      // The JSON serializer writes NaN as null (JSON.stringify), protobuf keeps it as a double.
      nan: format === "protobuf" ? "NaN" : null,
      empty: [],
      ["__proto__"]: "kept as data",
    });
    expect(Object.getPrototypeOf(span?.attributes)).toBe(Object.prototype);
  });

  it("rejects spans with invalid ids and keeps the rest", async () => {
    const spans = await makeSdkSpans();
    const zeroTrace = makeExoticSpan({ traceId: "00000000000000000000000000000000" });
    const shortSpan = makeExoticSpan({ spanId: "abcd" });
    const decoded = decodeTraceRequest(serialize(format, [...spans, zeroTrace, shortSpan]), format);
    expect(decoded.spans).toHaveLength(3);
    expect(decoded.rejectedSpans).toBe(2);
    expect(decoded.errors).toEqual([
      expect.stringMatching(/^resourceSpans\[1\]\.scopeSpans\[0\]\.spans\[0\]: traceId "0{32}" is invalid \(expected 16 bytes/),
      expect.stringMatching(/^resourceSpans\[\d\]\.scopeSpans\[0\]\.spans\[\d\]: spanId "abcd" is invalid \(expected 8 bytes/),
    ]);
  });
});

describe("decodeTraceRequest errors", () => {
  it("names the wire problem in an undecodable protobuf body", () => {
    // Field 1 with wire type 7, which does not exist.
    const error = catchError(() => decodeTraceRequest(new Uint8Array([0x0f, 1, 2, 3]), "protobuf"));
    expect(isAppError(error) && error.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("protobuf body is not an ExportTraceServiceRequest: invalid wire type 7 at offset 1");
  });

  it("rejects a truncated protobuf body", async () => {
    const body = serialize("protobuf", await makeSdkSpans());
    const error = catchError(() => decodeTraceRequest(body.subarray(0, body.length - 7), "protobuf"));
    expect(isAppError(error) && error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(
      /^protobuf body is not an ExportTraceServiceRequest: a field of \d+ bytes at offset \d+ runs past the end of its message \(offset \d+\): the body is truncated or a length is wrong$/,
    );
  });

  it("hints at the content type when a JSON body is sent as protobuf", () => {
    const error = catchError(() => decodeTraceRequest(new TextEncoder().encode('{"resourceSpans":[]}'), "protobuf"));
    expect(error.message).toMatch(/the body looks like JSON; send it with Content-Type: application\/json/);
  });

  it("reports the position of a JSON syntax error", () => {
    const error = catchError(() => decodeTraceRequest(new TextEncoder().encode('{"resourceSpans": [}'), "json"));
    expect(isAppError(error) && error.code).toBe("BAD_REQUEST");
    expect(error.message).toBe(`JSON body: unexpected token '}', "{"resourceSpans": [}" is not valid JSON`);
  });

  it("reports the path of a JSON value of the wrong type", () => {
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [] }, { spans: [{}, {}, {}, { startTimeUnixNano: "soon" }] }] }] };
    const error = catchError(() => decodeTraceRequest(new TextEncoder().encode(JSON.stringify(body)), "json"));
    expect(error.message).toBe(
      'JSON body: resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano must be an integer string (unsigned 64-bit, e.g. "1767225600000000000"), got "soon"',
    );
  });

  it("refuses non-UTF-8 JSON, a non-object root and runaway nesting", () => {
    expect(catchError(() => decodeTraceRequest(new Uint8Array([0x7b, 0xff, 0x7d]), "json")).message).toMatch(/not valid UTF-8/);
    expect(catchError(() => decodeTraceRequest(new TextEncoder().encode("[]"), "json")).message).toBe("JSON body: the request must be an object, got []");
    let value: unknown = { stringValue: "bottom" };
    for (let i = 0; i < 40; i += 1) value = { arrayValue: { values: [value] } };
    const deep = { resourceSpans: [{ resource: { attributes: [{ key: "deep", value }] } }] };
    expect(catchError(() => decodeTraceRequest(new TextEncoder().encode(JSON.stringify(deep)), "json")).message).toMatch(/nests values deeper than 32 levels/);
  });
});

describe("decodeTraceRequest OTLP/JSON rules beyond what the JS SDK writes", () => {
  it("accepts enum names, snake_case keys, uppercase hex, int64 strings and special doubles", () => {
    const body = {
      resource_spans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "legacy" } }] },
          scope_spans: [
            {
              spans: [
                {
                  trace_id: "5B8EFFF798038103D269B633813FC60C",
                  span_id: "EEE19B7EC3C1B174",
                  parent_span_id: "0000000000000000",
                  name: "op",
                  kind: "SPAN_KIND_CONSUMER",
                  start_time_unix_nano: 1767225600000000000,
                  endTimeUnixNano: "1767225600000000500",
                  attributes: [
                    { key: "count", value: { intValue: "9007199254740993" } },
                    { key: "small", value: { intValue: 7 } },
                    { key: "inf", value: { doubleValue: "Infinity" } },
                    { key: "raw", value: { bytesValue: "AAE=" } },
                    { key: "unset", value: {} },
                    { key: "http.status_code", value: { stringValue: "404" } },
                  ],
                  status: { code: "STATUS_CODE_ERROR" },
                  unknownField: { ignored: true },
                },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeTraceRequest(new TextEncoder().encode(JSON.stringify(body)), "json");
    expect(decoded.rejectedSpans).toBe(0);
    expect(decoded.spans[0]).toMatchObject({
      traceId: "5b8efff798038103d269b633813fc60c",
      spanId: "eee19b7ec3c1b174",
      parentSpanId: null,
      serviceName: "legacy",
      scopeName: null,
      links: [],
      kind: 5,
      startTimeUnixNano: 1767225600000000000n,
      endTimeUnixNano: 1767225600000000500n,
      statusCode: 2,
      statusMessage: null,
      httpStatusCode: 404,
      attributes: { count: "9007199254740993", small: 7, inf: "Infinity", raw: "AAE=", unset: null, "http.status_code": "404" },
    });
  });

  it("rejects spans whose times cannot be stored, keeping the rest", () => {
    const span = (spanId: string, start: string, end: string) => ({ traceId: "5b8efff798038103d269b633813fc60c", spanId, startTimeUnixNano: start, endTimeUnixNano: end });
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                span("0000000000000001", "0", "5"),
                span("0000000000000002", "20", "10"),
                span("0000000000000003", "1", "18446744073709551615"),
                span("0000000000000004", "1767225600000000000", "1767225600000000000"),
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeTraceRequest(new TextEncoder().encode(JSON.stringify(body)), "json");
    expect(decoded.spans.map((s) => s.spanId)).toEqual(["0000000000000004"]);
    expect(decoded.rejectedSpans).toBe(3);
    expect(decoded.errors).toEqual([
      "resourceSpans[0].scopeSpans[0].spans[0]: startTimeUnixNano is missing (it is required: unix time in nanoseconds)",
      "resourceSpans[0].scopeSpans[0].spans[1]: endTimeUnixNano 10 is before startTimeUnixNano 20",
      "resourceSpans[0].scopeSpans[0].spans[2]: times after the year 2262 are not valid (startTimeUnixNano 1, endTimeUnixNano 18446744073709551615)",
    ]);
  });

  it("caps the error list and counts the rest", () => {
    const spans = Array.from({ length: 25 }, () => ({ traceId: "", spanId: "" }));
    const body = { resourceSpans: [{ scopeSpans: [{ spans }] }] };
    const decoded = decodeTraceRequest(new TextEncoder().encode(JSON.stringify(body)), "json");
    expect(decoded.rejectedSpans).toBe(25);
    expect(decoded.errors).toHaveLength(11);
    expect(decoded.errors.at(-1)).toBe("…and 15 more rejected spans");
  });

  it("accepts an empty request", () => {
    expect(decodeTraceRequest(new TextEncoder().encode("{}"), "json")).toEqual({ spans: [], rejectedSpans: 0, errors: [] });
    expect(decodeTraceRequest(new Uint8Array(), "protobuf")).toEqual({ spans: [], rejectedSpans: 0, errors: [] });
  });

  it("rejects an unknown enum name with the accepted ones", () => {
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [{ kind: "SERVER" }] }] }] };
    expect(catchError(() => decodeTraceRequest(new TextEncoder().encode(JSON.stringify(body)), "json")).message).toMatch(
      /^JSON body: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.kind must be an integer or one of SPAN_KIND_UNSPECIFIED, .*got "SERVER"$/,
    );
  });
});
