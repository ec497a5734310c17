// OTLP partial success on every signal: invalid items (from the decoder) and items stamped outside the stored
// time range (from the store) are counted in partial_success with what was wrong, and the rest is stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIngestFixture, type IngestFixture } from "./testing/ingest-fixture.ts";

const NOW_NS = BigInt(Date.now() - 60_000) * 1_000_000n;
const MONTH_AGO_NS = NOW_NS - 30n * 86_400n * 1_000_000_000n;

let fixture: IngestFixture;

beforeAll(async () => {
  fixture = await startIngestFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

async function postJson(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${fixture.httpUrl}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  return { status: response.status, body: await response.json() };
}

const resource = (service: string) => ({ attributes: [{ key: "service.name", value: { stringValue: service } }] });

describe("partial success", () => {
  it("metrics: counts the point without a time, stores the other", async () => {
    const points = [{ timeUnixNano: String(NOW_NS), asInt: "7" }, { asInt: "8" }];
    const body = { resourceMetrics: [{ resource: resource("partial-metrics"), scopeMetrics: [{ metrics: [{ name: "queue_depth", gauge: { dataPoints: points } }] }] }] };
    expect(await postJson("/v1/metrics", body)).toEqual({
      status: 200,
      body: {
        partialSuccess: {
          rejectedDataPoints: "1",
          errorMessage: expect.stringMatching(/dataPoints\[1\]: timeUnixNano is missing \(it is required: unix time in nanoseconds\)$/),
        },
      },
    });
    expect(await fixture.count("SELECT count(*) FROM metric_points JOIN metric_series USING (series_id) WHERE service_name = 'partial-metrics'")).toBe(1);
  });

  it("logs: counts the record with a malformed trace id, stores the other", async () => {
    const records = [
      { timeUnixNano: String(NOW_NS), body: { stringValue: "kept" } },
      { timeUnixNano: String(NOW_NS), body: { stringValue: "refused" }, traceId: "abc123" },
    ];
    const body = { resourceLogs: [{ resource: resource("partial-logs"), scopeLogs: [{ logRecords: records }] }] };
    expect(await postJson("/v1/logs", body)).toEqual({
      status: 200,
      body: { partialSuccess: { rejectedLogRecords: "1", errorMessage: expect.stringMatching(/logRecords\[1\]: traceId "abc123" is invalid/) } },
    });
    expect(await fixture.count("SELECT count(*) FROM log_records WHERE service_name = 'partial-logs' AND body = 'kept'")).toBe(1);
    expect(await fixture.count("SELECT count(*) FROM log_records WHERE service_name = 'partial-logs'")).toBe(1);
  });

  it("traces: counts an invalid span and one older than the retention, each with its reason, stores the rest", async () => {
    const traceId = "6bf92f3577b34da6a3ce929d0e0e4736";
    const span = (spanId: string, start: bigint) => ({ traceId, spanId, name: spanId, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 1000n) });
    const spans = [span("00f067aa0ba902b7", NOW_NS), span("00f067aa0ba902b8", MONTH_AGO_NS), span("0000000000000000", NOW_NS)];
    const body = { resourceSpans: [{ resource: resource("partial-traces"), scopeSpans: [{ spans }] }] };
    expect(await postJson("/v1/traces", body)).toEqual({
      status: 200,
      body: {
        partialSuccess: {
          rejectedSpans: "2",
          errorMessage: expect.stringMatching(
            /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[2\]: spanId "0{16}" is invalid \(expected 8 bytes, 16 hex characters, not all zero\); 1 spans \(the first stamped \S+\) are outside the stored range \S+ … \S+; check the sender's clock$/,
          ),
        },
      },
    });
    expect(await fixture.count("SELECT count(*) FROM spans WHERE trace_id = $1", [traceId])).toBe(1);
  });
});
