// The official OpenTelemetry JS exporters, over every transport ingest serves (HTTP/JSON, HTTP/protobuf and gRPC,
// plain and gzip), send traces, metrics and logs twice; the rows are read back with plain SQL, stored once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIngestFixture, type IngestFixture } from "./testing/ingest-fixture.ts";
import { createExporters, makeLogs, makeMetrics, makeSpans, send, shutdownAll, type Transport } from "./testing/sdk-telemetry.ts";

let fixture: IngestFixture;

beforeAll(async () => {
  fixture = await startIngestFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

async function rows(sql: string, service: string): Promise<unknown[]> {
  return (await fixture.testDb.db.pool.query(sql, [service])).rows;
}

const CASES: Array<[Transport, boolean]> = [
  ["http/json", false],
  ["http/protobuf", false],
  ["grpc", false],
  ["http/json", true],
  ["http/protobuf", true],
  ["grpc", true],
];

describe.each(CASES)("the official %s exporters (gzip %s)", (transport, gzip) => {
  const service = `shop-${transport.replace("/", "-")}${gzip ? "-gzip" : ""}`;

  it("have their traces, metrics and logs stored once, though every batch is sent twice", async () => {
    const exporters = createExporters(transport, transport === "grpc" ? fixture.grpcUrl : fixture.httpUrl, { gzip });
    const [spans, metrics, logs] = await Promise.all([makeSpans(service), makeMetrics(service), makeLogs(service)]);
    try {
      for (const _round of [1, 2]) {
        expect(await send(exporters.traces, spans)).toMatchObject({ code: 0 });
        expect(await send(exporters.metrics, metrics)).toMatchObject({ code: 0 });
        expect(await send(exporters.logs, logs)).toMatchObject({ code: 0 });
      }
    } finally {
      await shutdownAll(exporters);
    }

    const traceId = spans[0]?.spanContext().traceId;
    expect(await rows("SELECT trace_id, name, kind FROM spans WHERE service_name = $1 ORDER BY name", service)).toEqual([
      { trace_id: traceId, name: "GET /", kind: 2 },
      { trace_id: traceId, name: "call 1", kind: 3 },
      { trace_id: traceId, name: "call 2", kind: 3 },
    ]);
    expect(await rows("SELECT trace_id, span_count, root_name FROM traces WHERE $1 = ANY(services)", service)).toEqual([
      { trace_id: traceId, span_count: 3, root_name: "GET /" },
    ]);
    expect(
      await rows(
        `SELECT s.name, s.kind, s.attributes->>'route' AS route, p.value, p.count, p.sum
           FROM metric_points p JOIN metric_series s USING (series_id) WHERE s.service_name = $1 ORDER BY s.name, route`,
        service,
      ),
    ).toEqual([
      { name: "app_request_duration_ms", kind: "histogram", route: "/a", value: null, count: 1, sum: 12.5 },
      { name: "app_requests_total", kind: "sum", route: "/a", value: 3, count: null, sum: null },
      { name: "app_requests_total", kind: "sum", route: "/b", value: 2, count: null, sum: null },
    ]);
    expect(await rows("SELECT body, severity_number, trace_id, span_id FROM log_records WHERE service_name = $1 ORDER BY body", service)).toEqual([
      { body: "GET /cart 200", severity_number: 9, trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" },
      { body: "cache miss", severity_number: 13, trace_id: null, span_id: null },
    ]);
  });
});
