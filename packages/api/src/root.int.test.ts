// The dashboard's procedures (services, graph, sidecars) through createCaller, on telemetry stored by the real
// write path in a migrated database, plus what every procedure does with bad input and a broken database.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectDatabase } from "@trellis/db";
import type { SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { createCaller } from "./root.ts";
import { expectTRPCError } from "./testing/expect-trpc-error.ts";
import { callSpans, storeTelemetry } from "./testing/shop-telemetry.ts";

/**
 * The procedures read "the last N seconds" of the real clock, widened to whole rollup buckets: a rate is `requests`
 * over N to N + one bucket seconds.
 */
function expectRequests(rate: number | undefined, requests: number, windowSeconds: number, bucketSeconds: number): void {
  expect(rate).toBeGreaterThanOrEqual(requests / (windowSeconds + bucketSeconds));
  expect(rate).toBeLessThanOrEqual(requests / windowSeconds);
}

describe("appRouter", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    const at = new Date(Date.now() - 30_000);
    const spans: SpanRecord[] = [];
    for (let i = 0; i < 30; i += 1) {
      spans.push(...callSpans({ caller: "frontend", callee: "order-service", calleeVersion: i % 3 === 0 ? "v2" : "v1", at, failed: i === 0 }));
    }
    // Twenty minutes ago: inside a one-hour window, outside the default five minutes.
    for (let i = 0; i < 12; i += 1) spans.push(...callSpans({ caller: "frontend", callee: "catalog-service", at: new Date(Date.now() - 20 * 60_000) }));
    // Two days ago: telemetry covers every window below in full, so rates are per second of the whole window.
    spans.push(...callSpans({ caller: "archived-job", callee: "archived-target", at: new Date(Date.now() - 2 * 86_400_000) }));
    await storeTelemetry(test.db.pool, spans);
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
    const services = await createCaller({ db: test.db }).services.list();
    expect(services.map((s) => s.service)).toEqual(["frontend", "order-service"]);
    const order = services[1];
    expectRequests(order?.requestRate, 30, 300, 10);
    expect(order?.errorRate).toBeCloseTo(1 / 30, 10);
    expect(order?.versions.map((v) => v.version)).toEqual(["v1", "v2"]);
    expect((order?.versions[0]?.requestRate ?? 0) / (order?.versions[1]?.requestRate ?? 0)).toBeCloseTo(2, 10);
    expect(order?.p50Ms).toBeGreaterThan(18);
    expect(order?.p50Ms).toBeLessThan(22);
  });

  it("services.list takes another window", async () => {
    const services = await createCaller({ db: test.db }).services.list({ windowSeconds: 3600 });
    expectRequests(services.find((s) => s.service === "catalog-service")?.requestRate, 12, 3600, 60);
  });

  it("topology.graph returns nodes per version and caller → callee edges by default, per service on request", async () => {
    const api = createCaller({ db: test.db });
    const graph = await api.topology.graph({ windowSeconds: 300 });
    expect(graph.nodes.map((n) => n.id)).toEqual(["frontend.default@v1", "order-service.default@v1", "order-service.default@v2"]);
    expect(graph.edges.map((e) => [`${e.source}->${e.target}`, e.protocols])).toEqual([
      ["frontend.default@v1->order-service.default@v1", ["http"]],
      ["frontend.default@v1->order-service.default@v2", ["http"]],
    ]);
    expectRequests(graph.edges[0]?.requestRate, 20, 300, 10);
    expectRequests(graph.edges[1]?.requestRate, 10, 300, 10);
    const byService = await api.topology.graph({ view: "service" });
    expect(byService.edges.map((e) => `${e.source}->${e.target}`)).toEqual(["frontend.default->order-service.default"]);
  });

  it("mesh.sidecars lists registered workloads with Dates intact", async () => {
    const sidecars = await createCaller({ db: test.db }).mesh.sidecars();
    expect(sidecars).toHaveLength(1);
    expect(sidecars[0]).toMatchObject({ id: "order-service-v2-0", service: "order-service", version: "v2", configVersion: 2, acked: true });
    expect(sidecars[0]?.lastSeenAt).toBeInstanceOf(Date);
  });

  it("rejects bad input with a message naming the field", async () => {
    const api = createCaller({ db: test.db });
    const tooShort = await expectTRPCError(api.topology.graph({ windowSeconds: 1 }));
    expect(tooShort.code).toBe("BAD_REQUEST");
    expect(tooShort.message).toBe("invalid input: windowSeconds: must be at least 10 seconds");
    const view = await expectTRPCError(api.topology.graph({ view: "pods" as "service" }));
    expect(view.message).toBe('invalid input: view: must be "service" or "workload"');
    const both = await expectTRPCError(api.services.list({ windowSeconds: 300, from: new Date(Date.now() - 60_000) }));
    expect(both.code).toBe("BAD_REQUEST");
    expect(both.message).toBe("give either windowSeconds or from/to, not both");
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
