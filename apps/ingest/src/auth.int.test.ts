// TRELLIS_INGEST_TOKEN set: exports without `Authorization: Bearer <token>` get 401 over HTTP and UNAUTHENTICATED
// over gRPC, saying what to send; the official exporters carrying the token are stored; health stays open.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callExport, EXPORT_PATHS } from "./testing/grpc-client.ts";
import { startIngestFixture, type IngestFixture } from "./testing/ingest-fixture.ts";
import { readRpcStatus } from "./testing/read-protobuf.ts";
import { createExporters, makeSpans, send, shutdownAll, type Transport } from "./testing/sdk-telemetry.ts";

const TOKEN = "correct-horse-battery-staple";
const MISSING = "this ingest requires a bearer token: send `Authorization: Bearer <token>` with the value of TRELLIS_INGEST_TOKEN";
const WRONG = "the bearer token is not the one this ingest expects (TRELLIS_INGEST_TOKEN)";

let fixture: IngestFixture;

beforeAll(async () => {
  fixture = await startIngestFixture({ token: TOKEN });
});

afterAll(async () => {
  await fixture?.stop();
});

function post(headers: Record<string, string>, body: string | Uint8Array = "{}"): Promise<Response> {
  return fetch(`${fixture.httpUrl}/v1/traces`, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
}

describe("OTLP/HTTP with a token", () => {
  it("answers 401 with WWW-Authenticate and the reason when the token is missing or wrong", async () => {
    const missing = await post({});
    expect([missing.status, missing.headers.get("www-authenticate"), await missing.json()]).toEqual([401, "Bearer", { code: 16, message: MISSING }]);
    const wrong = await post({ Authorization: `Bearer ${TOKEN}x` });
    expect([wrong.status, await wrong.json()]).toEqual([401, { code: 16, message: WRONG }]);
    const basic = await post({ Authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString("base64")}` });
    expect([basic.status, await basic.json()]).toEqual([401, { code: 16, message: MISSING }]);
  });

  it("answers 401 as a protobuf Status to a protobuf request", async () => {
    const response = await post({ "Content-Type": "application/x-protobuf" }, new Uint8Array());
    expect([response.status, response.headers.get("content-type")]).toEqual([401, "application/x-protobuf"]);
    expect(readRpcStatus(new Uint8Array(await response.arrayBuffer()))).toEqual({ code: 16, message: MISSING });
  });

  it("takes the token case-insensitively after `Bearer`, and keeps /healthz open", async () => {
    expect((await post({ Authorization: `bearer ${TOKEN}` })).status).toBe(200);
    expect((await fetch(`${fixture.httpUrl}/healthz`)).status).toBe(200);
  });
});

describe("OTLP/gRPC with a token", () => {
  it("answers UNAUTHENTICATED with the reason when the metadata has no or the wrong token", async () => {
    const address = `127.0.0.1:${fixture.ingest.grpcPort}`;
    const missing = await callExport(address, EXPORT_PATHS.logs, new Uint8Array());
    expect(missing.error).toMatchObject({ code: status.UNAUTHENTICATED, details: MISSING });
    const wrong = await callExport(address, EXPORT_PATHS.logs, new Uint8Array(), { authorization: "Bearer nope" });
    expect(wrong.error).toMatchObject({ code: status.UNAUTHENTICATED, details: WRONG });
  });
});

describe.each<Transport>(["http/protobuf", "grpc"])("the official %s exporter", (transport) => {
  it("is refused without the token and stored with it", async () => {
    const url = transport === "grpc" ? fixture.grpcUrl : fixture.httpUrl;
    const service = `auth-${transport.replace("/", "-")}`;
    const spans = await makeSpans(service);
    const anonymous = createExporters(transport, url);
    const authorized = createExporters(transport, url, { token: TOKEN });
    try {
      expect(await send(anonymous.traces, spans)).toMatchObject({ code: 1 });
      expect(await fixture.count("SELECT count(*) FROM spans WHERE service_name = $1", [service])).toBe(0);
      expect(await send(authorized.traces, spans)).toMatchObject({ code: 0 });
      expect(await fixture.count("SELECT count(*) FROM spans WHERE service_name = $1", [service])).toBe(3);
    } finally {
      await Promise.all([shutdownAll(anonymous), shutdownAll(authorized)]);
    }
  });
});
