// Backpressure with a real stall: a test connection holds an ACCESS EXCLUSIVE lock on spans, so ingest's writes
// wait; requests fill the bounded queue, the next one is refused at once (HTTP 429 + Retry-After, gRPC
// UNAVAILABLE), and once the lock is released everything that was accepted is stored.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callExport, EXPORT_PATHS } from "./testing/grpc-client.ts";
import { startIngestFixture, type IngestFixture } from "./testing/ingest-fixture.ts";
import { readRpcStatus } from "./testing/read-protobuf.ts";
import { makeTraceRequest } from "./testing/sdk-telemetry.ts";

const QUEUE_ITEMS = 9;
const FULL = `ingest is at capacity (9 items waiting to be stored, limit 9, TRELLIS_INGEST_QUEUE_ITEMS); retry after the Retry-After delay`;

let fixture: IngestFixture;

beforeAll(async () => {
  fixture = await startIngestFixture({ queueItems: QUEUE_ITEMS, writers: 2 });
});

afterAll(async () => {
  await fixture?.stop();
});

function postTraces(body: Uint8Array): Promise<Response> {
  return fetch(`${fixture.httpUrl}/v1/traces`, { method: "POST", body, headers: { "Content-Type": "application/x-protobuf" } });
}

describe("backpressure", () => {
  it("refuses requests beyond the queue at once while writes stall, and stores every accepted one", async () => {
    // A first request makes sure today's partitions exist, so the stalled writes below wait only on the lock.
    expect((await postTraces(await makeTraceRequest("warm-up"))).status).toBe(200);

    const release = await fixture.lockSpans();

    const services = ["held-1", "held-2", "held-3"];
    const accepted = await Promise.all(services.map((service) => makeTraceRequest(service))).then((bodies) => bodies.map(postTraces));
    await fixture.waitForQueuedItems(QUEUE_ITEMS);

    const refused = await postTraces(await makeTraceRequest("refused-http"));
    const answer = readRpcStatus(new Uint8Array(await refused.arrayBuffer()));
    expect([refused.status, refused.headers.get("retry-after"), answer]).toEqual([429, "1", { code: 14, message: FULL }]);
    const grpc = await callExport(`127.0.0.1:${fixture.ingest.grpcPort}`, EXPORT_PATHS.traces, await makeTraceRequest("refused-grpc"));
    expect(grpc.error).toMatchObject({ code: status.UNAVAILABLE, details: FULL });

    await release();
    expect(await Promise.all(accepted.map(async (response) => (await response).status))).toEqual([200, 200, 200]);
    expect(await fixture.count("SELECT count(*) FROM spans WHERE service_name = ANY($1)", [services])).toBe(9);
    expect(await fixture.count("SELECT count(*) FROM spans WHERE service_name LIKE 'refused-%'")).toBe(0);
    await fixture.waitForQueuedItems(0);
  });
});
