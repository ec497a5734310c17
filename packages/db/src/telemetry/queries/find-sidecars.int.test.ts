// The registered sidecars as the dashboard lists them, read through Prisma from a real Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { findSidecars } from "./find-sidecars.ts";

describe("findSidecars", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("is empty before any sidecar registers", async () => {
    expect(await findSidecars({ prisma: test.db.prisma })).toEqual([]);
  });

  it("lists workloads by service and version, with the version they run and whether they caught up", async () => {
    const { prisma } = test.db;
    const order = await prisma.service.create({ data: { name: "order-service" } });
    const gateway = await prisma.service.create({ data: { name: "gateway" } });
    const base = (id: string, port: number) => ({
      id,
      address: `127.0.0.1:${port}`,
      inboundUrl: `http://127.0.0.1:${port}`,
      adminUrl: `http://127.0.0.1:${port + 1000}`,
    });
    await prisma.workload.create({
      data: { ...base("order-service-v2-0", 16002), serviceId: order.id, version: "v2", configVersion: 4, ackedVersion: 3, lastError: "route weights sum to 90" },
    });
    await prisma.workload.create({ data: { ...base("order-service-v1-0", 16001), serviceId: order.id, version: "v1", configVersion: 4, ackedVersion: 4 } });
    await prisma.workload.create({ data: { ...base("gateway-v1-0", 16000), serviceId: gateway.id, version: "v1", mode: "gateway", connected: false } });

    const sidecars = await findSidecars({ prisma });
    expect(sidecars.map((s) => s.id)).toEqual(["gateway-v1-0", "order-service-v1-0", "order-service-v2-0"]);
    expect(sidecars[0]).toMatchObject({ service: "gateway", mode: "gateway", connected: false, configVersion: null, pushedVersion: null, acked: true });
    expect(sidecars[1]).toMatchObject({ service: "order-service", version: "v1", configVersion: 4, acked: true, lastError: null });
    expect(sidecars[2]).toMatchObject({
      service: "order-service",
      namespace: "default",
      version: "v2",
      configVersion: 3,
      pushedVersion: 4,
      acked: false,
      lastError: "route weights sum to 90",
      adminUrl: "http://127.0.0.1:17002",
      inboundUrl: "http://127.0.0.1:16002",
    });
    expect(sidecars[2]?.lastSeenAt).toBeInstanceOf(Date);
  });
});
