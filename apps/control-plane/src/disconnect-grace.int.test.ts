// A workload whose config stream closes stays an endpoint for the disconnect grace period (TRELLIS_DISCONNECT_GRACE):
// shown disconnected in GET /v1/sidecars, removed from its callers' snapshots only when the grace expires, and kept
// without a flap when it reconnects in time. Real control planes on a real Postgres, fake sidecars on the real stream.
import { afterAll, describe, expect, it } from "vitest";
import type { ConfigMessage } from "@trellis/mesh-config";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startControlPlane, type ControlPlane } from "./control-plane.ts";
import { connectFakeSidecar, workloadNode, type FakeSidecar } from "./policies/fake-sidecar.fixture.ts";
import type { SidecarView } from "./rest.ts";

const quiet = { info: () => {}, warn: () => {}, error: console.error };

const databases: TestDatabase[] = [];
const controlPlanes: ControlPlane[] = [];
const sidecars: FakeSidecar[] = [];

afterAll(async () => {
  for (const sidecar of sidecars) sidecar.close();
  for (const controlPlane of controlPlanes) await controlPlane.stop();
  for (const database of databases) await database.drop();
});

/** A control plane on its own database, so that no other test's sidecars are expected back after a restart. */
async function start(disconnectGraceMs: number): Promise<ControlPlane> {
  const database = await createTestDatabase();
  databases.push(database);
  const controlPlane = await startControlPlane({ db: database.db, port: 0, log: quiet, disconnectGraceMs });
  controlPlanes.push(controlPlane);
  return controlPlane;
}

function connect(controlPlane: ControlPlane, id: string, service: string, port: number, upstreams: string[] = []): FakeSidecar {
  const sidecar = connectFakeSidecar(controlPlane.port, workloadNode(id, service, "v1", port, upstreams));
  sidecars.push(sidecar);
  return sidecar;
}

/** The workload ids in a pushed config's cluster for `service`. */
function endpointsOf(config: ConfigMessage, service: string): string[] {
  return (config.snapshot.clusters[service]?.endpoints ?? []).map((e) => e.workloadId);
}

async function waitForRow(controlPlane: ControlPlane, id: string, connected: boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = (await (await fetch(`http://127.0.0.1:${controlPlane.port}/v1/sidecars`)).json()) as SidecarView[];
    if (rows.find((row) => row.id === id)?.connected === connected) return;
    if (Date.now() > deadline) throw new Error(`GET /v1/sidecars never showed ${id} with connected: ${connected}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("disconnect grace period", () => {
  it("removes a disconnected workload from its callers only once a 300 ms grace has passed", async () => {
    const controlPlane = await start(300);
    const web = connect(controlPlane, "web-0", "web", 33001, ["api"]);
    const api = connect(controlPlane, "api-0", "api", 33011);
    await web.waitForConfig((c) => endpointsOf(c, "api").includes("api-0"));
    const seen = web.configs.length;

    const closedAt = performance.now();
    api.close();
    await waitForRow(controlPlane, "api-0", false);
    const removal = await web.waitForConfig((c) => web.configs.indexOf(c) >= seen);
    expect(endpointsOf(removal, "api")).toEqual([]);
    // The first push after the disconnect is the removal, and it cannot come before the grace is over.
    expect(web.configs.indexOf(removal)).toBe(seen);
    expect((web.arrivals[seen] ?? 0) - closedAt).toBeGreaterThanOrEqual(300);
  });

  it("keeps a disconnected workload an endpoint, shown disconnected, and takes it back without a flap", async () => {
    const controlPlane = await start(60_000);
    const web = connect(controlPlane, "web-1", "web", 33101, ["api"]);
    const first = connect(controlPlane, "api-10", "api", 33111);
    await web.waitForConfig((c) => endpointsOf(c, "api").includes("api-10"));
    const seen = web.configs.length;

    first.close();
    await waitForRow(controlPlane, "api-10", false);
    // Another instance joining makes the caller's next push: the disconnected one is still in it.
    connect(controlPlane, "api-11", "api", 33121);
    const both = await web.waitForConfig((c) => endpointsOf(c, "api").includes("api-11"));
    expect(endpointsOf(both, "api")).toEqual(["api-10", "api-11"]);

    connect(controlPlane, "api-10", "api", 33111);
    await waitForRow(controlPlane, "api-10", true);
    connect(controlPlane, "api-12", "api", 33131);
    const all = await web.waitForConfig((c) => endpointsOf(c, "api").includes("api-12"));
    expect(endpointsOf(all, "api")).toEqual(["api-10", "api-11", "api-12"]);
    // Pushes go out in order on the stream: had any dropped api-10, the caller would have received it by now.
    expect(web.configs.slice(seen).map((c) => endpointsOf(c, "api").includes("api-10"))).toEqual(web.configs.slice(seen).map(() => true));
  });
});
