// OTLP/gRPC statuses, seen on the wire with a bare client: the Export response with partial_success, and
// INVALID_ARGUMENT, RESOURCE_EXHAUSTED and UNIMPLEMENTED for what ingest cannot take. (The official gRPC
// exporters are in sdk-exporters.int.test.ts; UNAUTHENTICATED in auth.int.test.ts, UNAVAILABLE in
// backpressure.int.test.ts and postgres-outage.int.test.ts.)
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeResource, encodeScope, encodeTraceExport, type EncodableSpan } from "@trellis/otlp";
import { callExport, EXPORT_PATHS } from "./testing/grpc-client.ts";
import { startIngestFixture, TEST_MAX_BODY_BYTES, type IngestFixture } from "./testing/ingest-fixture.ts";
import { readPartialSuccess } from "./testing/read-protobuf.ts";

const TRACE_ID = "5bf92f3577b34da6a3ce929d0e0e4736";
const SECOND = Math.floor(Date.now() / 1000) - 60;

let fixture: IngestFixture;
let address: string;

beforeAll(async () => {
  fixture = await startIngestFixture();
  address = `127.0.0.1:${fixture.ingest.grpcPort}`;
});

afterAll(async () => {
  await fixture?.stop();
});

function span(spanId: string, name: string): EncodableSpan {
  return {
    name,
    kind: 1,
    spanContext: () => ({ traceId: TRACE_ID, spanId, traceFlags: 1 }),
    startTime: [SECOND, 0],
    endTime: [SECOND, 1000],
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0 },
  };
}

describe("OTLP/gRPC receiver", () => {
  it("stores the valid spans of a request and reports the invalid one in partial_success", async () => {
    const body = encodeTraceExport(encodeResource({ "service.name": "grpc-partial" }), encodeScope("test"), [span("00f067aa0ba902b7", "good"), span("00f067aa0ba9", "bad")]);
    const answer = await callExport(address, EXPORT_PATHS.traces, body);
    expect(answer.error).toBeUndefined();
    expect(readPartialSuccess(answer.response ?? Buffer.alloc(0))).toEqual({
      rejected: 1,
      errorMessage: 'resourceSpans[0].scopeSpans[0].spans[1]: spanId "00f067aa0ba9" is invalid (expected 8 bytes, 16 hex characters, not all zero)',
    });
    expect(await fixture.count("SELECT count(*) FROM spans WHERE trace_id = $1 AND name = 'good'", [TRACE_ID])).toBe(1);
    expect(await fixture.count("SELECT count(*) FROM spans WHERE trace_id = $1", [TRACE_ID])).toBe(1);
  });

  it("answers an empty request with an empty response", async () => {
    for (const path of Object.values(EXPORT_PATHS)) {
      const answer = await callExport(address, path, new Uint8Array());
      expect([answer.error, answer.response?.length]).toEqual([undefined, 0]);
    }
  });

  it("answers bytes that are not the service's request with INVALID_ARGUMENT naming what failed", async () => {
    const traces = await callExport(address, EXPORT_PATHS.traces, new Uint8Array([0x0f, 1, 2, 3]));
    expect(traces.error).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^protobuf body is not an ExportTraceServiceRequest: /) });
    const logs = await callExport(address, EXPORT_PATHS.logs, new Uint8Array([0x0a, 0x05, 1]));
    expect(logs.error).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^protobuf body is not an ExportLogsServiceRequest: /) });
  });

  it("refuses a message over the size limit with RESOURCE_EXHAUSTED", async () => {
    const answer = await callExport(address, EXPORT_PATHS.metrics, new Uint8Array(TEST_MAX_BODY_BYTES + 1));
    expect(answer.error).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/larger than max/) });
  });

  it("answers a method it does not serve with UNIMPLEMENTED", async () => {
    const answer = await callExport(address, "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", new Uint8Array());
    expect(answer.error?.code).toBe(status.UNIMPLEMENTED);
  });
});
