// The registry's batched row writes against a real Postgres: a registration writes the whole row (and its service),
// later state coalesces into it, a re-registration keeps the pushed version, flushes land in order so a row never
// moves backwards, and a failed flush is retried with the newer state winning.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeInfo } from "@trellis/mesh-config";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { createRegistryWrites, type RegistryWrites, type WorkloadState } from "./registry-writes.ts";

let testDb: TestDatabase;
const opened: RegistryWrites[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  for (const writes of opened) writes.stop();
  await testDb?.drop();
});

function open(log: Pick<Console, "error"> = console): RegistryWrites {
  // A long interval: these tests flush explicitly, so nothing is written behind their back.
  const writes = createRegistryWrites({ pool: testDb.db.pool, log, intervalMs: 60_000 });
  opened.push(writes);
  return writes;
}

function node(id: string, service = "api", version = "v1"): NodeInfo {
  return {
    id,
    service,
    namespace: "default",
    version,
    mode: "sidecar",
    labels: { app: service, version },
    address: "127.0.0.1:31000",
    inboundUrl: "http://127.0.0.1:31000",
    adminUrl: "http://127.0.0.1:31001",
    upstreams: [],
  };
}

function state(overrides: Partial<WorkloadState>): WorkloadState {
  return { configVersion: null, ackedVersion: null, lastError: null, connected: true, lastSeenAt: new Date(), ...overrides };
}

const row = (id: string) => testDb.db.prisma.workload.findUnique({ where: { id }, include: { service: true } });

describe("registry writes", () => {
  it("write a registration with its service, and the state that followed it, as one row", async () => {
    const writes = open();
    const at = new Date("2026-11-24T10:00:00.000Z");
    writes.register({ ...node("api-0"), labels: { app: "api", version: "v1", note: 'say "hi", {x} \\ done' } }, at);
    writes.update("api-0", state({ configVersion: 3 }));
    writes.update("api-0", state({ ackedVersion: 3 }));
    expect(await row("api-0")).toBeNull();
    await writes.flush();
    expect(await row("api-0")).toMatchObject({
      service: { namespace: "default", name: "api" },
      version: "v1",
      labels: { app: "api", version: "v1", note: 'say "hi", {x} \\ done' },
      mode: "sidecar",
      address: "127.0.0.1:31000",
      connected: true,
      configVersion: 3,
      ackedVersion: 3,
      lastError: null,
      registeredAt: at,
    });
  });

  it("start a re-registration's session over but keep the version last pushed", async () => {
    const writes = open();
    writes.register(node("api-1"), new Date());
    writes.update("api-1", state({ configVersion: 7, ackedVersion: 7 }));
    await writes.flush();
    writes.update("api-1", state({ configVersion: 8, lastError: "refused", connected: false }));
    writes.register(node("api-1", "api", "v2"), new Date());
    await writes.flush();
    expect(await row("api-1")).toMatchObject({ version: "v2", connected: true, configVersion: 8, ackedVersion: null, lastError: null });

    writes.register(node("api-1", "api", "v2"), new Date());
    await writes.flush();
    expect(await row("api-1")).toMatchObject({ configVersion: 8, ackedVersion: null });
  });

  it("land flushes in the order they were asked for, so a row never moves backwards", async () => {
    const writes = open();
    writes.register(node("api-2"), new Date());
    const flushes: Array<Promise<void>> = [];
    for (let version = 1; version <= 40; version += 1) {
      writes.update("api-2", state({ configVersion: version, ackedVersion: version - 1 }));
      if (version % 3 === 0) flushes.push(writes.flush());
    }
    flushes.push(writes.flush());
    await Promise.all(flushes);
    expect(await row("api-2")).toMatchObject({ configVersion: 40, ackedVersion: 39 });
  });

  it("flush on their own within the interval", async () => {
    const writes = createRegistryWrites({ pool: testDb.db.pool, intervalMs: 20 });
    opened.push(writes);
    writes.register(node("api-3"), new Date());
    writes.update("api-3", state({ configVersion: 2, ackedVersion: 2 }));
    for (let tries = 0; (await row("api-3"))?.ackedVersion !== 2; tries += 1) {
      if (tries > 200) throw new Error("the interval flush never wrote api-3");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  it("retry a failed flush, with the state queued meanwhile winning", async () => {
    const errors: string[] = [];
    const writes = open({ error: (message: string) => void errors.push(message) });
    writes.register(node("api-4"), new Date());
    await writes.flush();
    await testDb.db.pool.query("ALTER TABLE workloads RENAME TO workloads_away");
    try {
      writes.update("api-4", state({ configVersion: 5, ackedVersion: 4 }));
      await writes.flush();
      expect(errors).toEqual([expect.stringContaining("could not persist 1 workload row(s), retrying in 1000 ms")]);
      writes.update("api-4", state({ ackedVersion: 5 }));
    } finally {
      await testDb.db.pool.query("ALTER TABLE workloads_away RENAME TO workloads");
    }
    await writes.flush();
    expect(await row("api-4")).toMatchObject({ configVersion: 5, ackedVersion: 5 });
  });
});
