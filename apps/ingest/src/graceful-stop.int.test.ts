// A clean stop: ingest stops accepting connections at once, but the requests it already took are still written
// and answered (here, writes held back by a lock on spans) before stop() resolves.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callExport, EXPORT_PATHS } from "./testing/grpc-client.ts";
import { startIngestFixture, type IngestFixture } from "./testing/ingest-fixture.ts";
import { makeTraceRequest } from "./testing/sdk-telemetry.ts";

let fixture: IngestFixture;

beforeAll(async () => {
  fixture = await startIngestFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

describe("stop()", () => {
  it("refuses new connections and finishes the writes in flight before resolving", async () => {
    const grpcAddress = `127.0.0.1:${fixture.ingest.grpcPort}`;
    const post = async (service: string) =>
      fetch(`${fixture.httpUrl}/v1/traces`, { method: "POST", body: await makeTraceRequest(service), headers: { "Content-Type": "application/x-protobuf" } });
    expect((await post("warm-up")).status).toBe(200);

    const release = await fixture.lockSpans();
    const httpInFlight = post("in-flight-http");
    const grpcInFlight = callExport(grpcAddress, EXPORT_PATHS.traces, await makeTraceRequest("in-flight-grpc"));
    await fixture.waitForQueuedItems(6);

    let stopped = false;
    const stopping = fixture.ingest.stop().then(() => (stopped = true));
    await expect(fetch(`${fixture.httpUrl}/healthz`)).rejects.toThrow();
    expect((await callExport(grpcAddress, EXPORT_PATHS.traces, new Uint8Array())).error?.code).toBe(status.UNAVAILABLE);
    expect(stopped).toBe(false);

    await release();
    expect((await httpInFlight).status).toBe(200);
    expect((await grpcInFlight).error).toBeUndefined();
    await stopping;
    expect(await fixture.count("SELECT count(*) FROM spans WHERE service_name LIKE 'in-flight-%'")).toBe(6);
  });
});
