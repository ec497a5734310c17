// Postgres stopped while the official exporters keep sending: ingest answers retryable errors (HTTP 503 +
// Retry-After, gRPC UNAVAILABLE) and reports itself unhealthy; Postgres starts again on the same port and data
// directory, the exporters' retries get through, and every span sent is stored exactly once.
import { status } from "@grpc/grpc-js";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase, findFreePort, migrate, startPostgres, type Database, type PostgresHandle } from "@trellis/db";
import { startIngest, type Ingest } from "./ingest.ts";
import { createExporters, makeSpans, send, shutdownAll, type ExportResult, type Transport } from "./testing/sdk-telemetry.ts";

let workDir: string;
let postgres: PostgresHandle | undefined;
let port: number;
let db: Database;
let ingest: Ingest;

const dataDir = () => join(workDir, "data");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "trellis-ingest-outage-"));
  chmodSync(workDir, 0o755); // as root, Postgres runs as `postgres`, which must reach the data directory
  port = await findFreePort();
  postgres = await startPostgres({ dataDir: dataDir(), port });
  db = await connectDatabase({ url: postgres.url });
  await migrate({ pool: db.pool });
  ingest = await startIngest({ pool: db.pool, host: "127.0.0.1", httpPort: 0, grpcPort: 0, maxBodyBytes: 1024 * 1024, retentionDays: 7, queueItems: 10_000, writers: 2 });
});

afterAll(async () => {
  await ingest?.stop();
  await db?.close();
  await postgres?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * An exporter that keeps sending new three-span batches until told to stop, resending a refused batch until it is
 * accepted (as an SDK's or a collector's retry queue does), and recording every refusal.
 */
function keepSending(transport: Transport) {
  const url = transport === "grpc" ? `http://127.0.0.1:${ingest.grpcPort}` : `http://127.0.0.1:${ingest.httpPort}`;
  // Shorter than the 5 s Retry-After: the HTTP exporter hands the refusal back at once instead of waiting.
  const exporters = createExporters(transport, url, { timeoutMillis: 2_000 });
  const state = { accepted: 0, refusals: [] as ExportResult[], stop: false, done: Promise.resolve() };
  state.done = (async () => {
    try {
      while (!state.stop) {
        const spans = await makeSpans(`outage-${transport.replace("/", "-")}`, 3);
        for (let result = await send(exporters.traces, spans); result.code !== 0; result = await send(exporters.traces, spans)) {
          state.refusals.push(result);
          await sleep(50);
        }
        state.accepted += 1;
      }
    } finally {
      await shutdownAll(exporters);
    }
  })();
  return state;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(20);
}

describe("Postgres outage", () => {
  it("answers retryable errors while Postgres is down and stores every span exactly once after it is back", async () => {
    const senders = (["http/protobuf", "grpc"] as const).map(keepSending);
    await until(() => senders.every((s) => s.accepted >= 2));

    await postgres?.stop();
    postgres = undefined;
    await until(() => senders.every((s) => s.refusals.length >= 2));
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "7bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n), endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }] }] }] });
    const refused = await fetch(`http://127.0.0.1:${ingest.httpPort}/v1/traces`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    expect([refused.status, refused.headers.get("retry-after"), await refused.json()]).toEqual([503, "5", { code: 14, message: "the telemetry store (Postgres) is unavailable; retry later" }]);
    const health = await fetch(`http://127.0.0.1:${ingest.httpPort}/healthz`);
    expect([health.status, await health.json()]).toEqual([503, expect.objectContaining({ status: "unavailable", error: expect.stringMatching(/^Postgres is not answering: /) })]);

    postgres = await startPostgres({ dataDir: dataDir(), port });
    const acceptedBefore = senders.map((s) => s.accepted);
    await until(() => senders.every((s, i) => s.accepted >= (acceptedBefore[i] ?? 0) + 2));
    for (const sender of senders) sender.stop = true;
    await Promise.all(senders.map((s) => s.done));

    const [http, grpc] = senders;
    // The HTTP exporter gives the 503 back as "retryable" once Retry-After exceeds its timeout; gRPC as UNAVAILABLE.
    expect(http?.refusals.every((r) => /retryable status/.test(r.error?.message ?? ""))).toBe(true);
    expect(grpc?.refusals.every((r) => (r.error as { code?: number } | undefined)?.code === status.UNAVAILABLE)).toBe(true);
    const counts = await db.pool.query<{ service: string; spans: string; distinct_spans: string }>(
      `SELECT service_name AS service, count(*) AS spans, count(DISTINCT (trace_id, span_id)) AS distinct_spans FROM spans GROUP BY 1 ORDER BY 1`,
    );
    expect(counts.rows).toEqual([
      { service: "outage-grpc", spans: String(3 * (grpc?.accepted ?? 0)), distinct_spans: String(3 * (grpc?.accepted ?? 0)) },
      { service: "outage-http-protobuf", spans: String(3 * (http?.accepted ?? 0)), distinct_spans: String(3 * (http?.accepted ?? 0)) },
    ]);
  });
});
