// The API as the dashboard calls it: every procedure through createCaller against a seeded, migrated database.
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectDatabase, insertSpans } from "@trellis/db";
import type { SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { createCaller } from "./root.ts";

function callSpans(caller: string, callee: string, at: Date, calleeVersion = "v1", status = 0): SpanRecord[] {
  const traceId = randomBytes(16).toString("hex");
  const clientId = randomBytes(8).toString("hex");
  const start = BigInt(at.getTime()) * 1_000_000n;
  const span = (spanId: string, parentSpanId: string | null, service: string, version: string, kind: number): SpanRecord => ({
    traceId,
    spanId,
    parentSpanId,
    serviceName: service,
    serviceNamespace: "default",
    serviceVersion: version,
    name: "GET /",
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + 20_000_000n,
    statusCode: status,
    statusMessage: null,
    httpStatusCode: status === 2 ? 503 : 200,
    attributes: {},
    resourceAttributes: {},
    events: [],
  });
  return [span(clientId, null, caller, "v1", 3), span(randomBytes(8).toString("hex"), clientId, callee, calleeVersion, 2)];
}

async function expectTRPCError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe("appRouter", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    const at = new Date(Date.now() - 30_000);
    const spans: SpanRecord[] = [];
    for (let i = 0; i < 30; i += 1) spans.push(...callSpans("frontend", "order-service", at, i % 3 === 0 ? "v2" : "v1", i === 0 ? 2 : 0));
    // Twenty minutes ago: inside a one-hour window, outside the default five minutes.
    for (let i = 0; i < 12; i += 1) spans.push(...callSpans("frontend", "catalog-service", new Date(Date.now() - 20 * 60_000)));
    // Two days ago: telemetry covers every window below in full, so rates are per second of the whole window.
    spans.push(...callSpans("archived-job", "archived-target", new Date(Date.now() - 2 * 86_400_000)));
    await insertSpans(test.db.pool, spans);
    const service = await test.db.prisma.service.create({ data: { name: "order-service" } });
    await test.db.prisma.workload.create({
      data: {
        id: "order-service-v2-0",
        serviceId: service.id,
        version: "v2",
        address: "127.0.0.1:16002",
        inboundUrl: "http://127.0.0.1:16002",
        adminUrl: "http://127.0.0.1:15002",
        configVersion: 2,
        ackedVersion: 2,
      },
    });
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("services.list returns the last five minutes by default", async () => {
    const api = createCaller({ db: test.db });
    const services = await api.services.list();
    expect(services.map((s) => s.service)).toEqual(["frontend", "order-service"]);
    const order = services[1];
    expect(order?.requestRate).toBeCloseTo(30 / 300, 10);
    expect(order?.errorRate).toBeCloseTo(1 / 30, 10);
    expect(order?.versions.map((v) => v.version)).toEqual(["v1", "v2"]);
    expect(order?.p50Ms).toBeCloseTo(20, 6);
  });

  it("services.list takes another window", async () => {
    const services = await createCaller({ db: test.db }).services.list({ windowSeconds: 3600 });
    expect(services.find((s) => s.service === "catalog-service")?.requestRate).toBeCloseTo(12 / 3600, 10);
  });

  it("topology.graph returns nodes per version and caller → callee edges", async () => {
    const graph = await createCaller({ db: test.db }).topology.graph({ windowSeconds: 300 });
    expect(graph.nodes.map((n) => n.id)).toEqual(["frontend@v1", "order-service@v1", "order-service@v2"]);
    expect(graph.edges.map((e) => [`${e.source}->${e.target}`, Math.round(e.requestRate * 300)])).toEqual([
      ["frontend@v1->order-service@v1", 20],
      ["frontend@v1->order-service@v2", 10],
    ]);
  });

  it("mesh.sidecars lists registered workloads with Dates intact", async () => {
    const sidecars = await createCaller({ db: test.db }).mesh.sidecars();
    expect(sidecars).toHaveLength(1);
    expect(sidecars[0]).toMatchObject({ id: "order-service-v2-0", service: "order-service", version: "v2", configVersion: 2, acked: true });
    expect(sidecars[0]?.lastSeenAt).toBeInstanceOf(Date);
  });

  it("rejects a bad window with a message naming the field", async () => {
    const error = await expectTRPCError(createCaller({ db: test.db }).topology.graph({ windowSeconds: 1 }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("invalid input: windowSeconds: must be at least 10 seconds");
  });

  it("answers a database failure with a generic message and logs the real one", async () => {
    const broken = await connectDatabase({ url: test.url });
    await broken.close();
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const error = await expectTRPCError(createCaller({ db: broken }).services.list());
      expect(error.code).toBe("INTERNAL_SERVER_ERROR");
      expect(error.message).toBe("internal error; see the server log");
      expect(consoleError).toHaveBeenCalledTimes(1);
      expect(String(consoleError.mock.calls[0]?.[1])).toMatch(/pool/i);
    } finally {
      consoleError.mockRestore();
    }
  });
});
