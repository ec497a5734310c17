// Policies reaching sidecars: a dry run names the sidecars a change would reach and stores nothing; an apply with
// `wait` pushes the new routes to exactly those sidecars and reports each one's ACK or NACK (a NACKing sidecar does
// not hold back the others), the ACKs then show in GET /v1/sidecars, and a restarted
// control plane pushes the stored policies to the sidecars that reconnect.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigMessage } from "@trellis/mesh-config";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startControlPlane, type ControlPlane } from "../control-plane.ts";
import type { SidecarView } from "../rest.ts";
import { connectFakeSidecar, workloadNode, type FakeSidecar } from "./fake-sidecar.fixture.ts";
import type { ApplyResult } from "./types.ts";

const seedYaml = readFileSync(resolve(import.meta.dirname, "../../../demo/policies/seed-policies.yaml"), "utf8");

let testDb: TestDatabase;
let controlPlane: ControlPlane;
const sidecars: FakeSidecar[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: { info: () => {}, warn: () => {}, error: console.error } });
});

afterAll(async () => {
  for (const sidecar of sidecars) sidecar.close();
  await controlPlane?.stop();
  await testDb?.drop();
});

function connect(...args: Parameters<typeof workloadNode>): FakeSidecar {
  const sidecar = connectFakeSidecar(controlPlane.port, workloadNode(...args));
  sidecars.push(sidecar);
  return sidecar;
}

async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${controlPlane.port}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function getJson<T>(path: string): Promise<T> {
  return (await (await fetch(`http://127.0.0.1:${controlPlane.port}${path}`)).json()) as T;
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function canary(v1: number, v2: number): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: order-service }
spec:
  hosts: [order-service]
  http:
  - route:
    - { destination: { host: order-service, subset: v1 }, weight: ${v1} }
    - { destination: { host: order-service, subset: v2 }, weight: ${v2} }
`;
}

/** The weights of the routes to order-service in a pushed config, e.g. "order-service|v1=90,order-service|v2=10". */
function orderWeights(config: ConfigMessage): string {
  const host = config.snapshot.virtualHosts.find((h) => h.upstream === "order-service");
  return (host?.routes[0]?.destinations ?? []).map((d) => `${d.cluster}=${d.weight}`).join(",");
}

describe("policy push", () => {
  let frontend: FakeSidecar;

  it("pushes an apply to the connected sidecars and reports their ACKs, which GET /v1/sidecars then shows", async () => {
    frontend = connect("frontend-0", "frontend", "v1", 32001, ["order-service"]);
    connect("order-v1-0", "order-service", "v1", 32011);
    connect("order-v2-0", "order-service", "v2", 32021);
    await waitUntil("three registered sidecars", async () => (await getJson<SidecarView[]>("/v1/sidecars")).filter((s) => s.connected && s.acked).length === 3);

    const { status, body } = await post<ApplyResult>("/v1/policies/apply", { yaml: seedYaml, author: "alice", wait: true });
    expect(status).toBe(200);
    expect(body.revision).toBe(1);
    // The mesh-wide STRICT PeerAuthentication changes every sidecar's inbound; the canary changes frontend's routes.
    expect(body.affectedSidecars.map((s) => s.id).sort()).toEqual(["frontend-0", "order-v1-0", "order-v2-0"]);
    expect(body.sidecars?.map((s) => [s.id, s.status, s.error]).sort()).toEqual([
      ["frontend-0", "acked", null],
      ["order-v1-0", "acked", null],
      ["order-v2-0", "acked", null],
    ]);

    // The apply answered after every ACK, so the last config frontend received is the one the apply pushed.
    const pushed = frontend.configs.at(-1) as ConfigMessage;
    expect(orderWeights(pushed)).toBe("order-service|v1=90,order-service|v2=10");
    // The registry writes ACKs to Postgres in the background, right after the apply answered.
    await waitUntil("frontend's ACK in GET /v1/sidecars", async () => {
      const row = (await getJson<SidecarView[]>("/v1/sidecars")).find((s) => s.id === "frontend-0");
      return row?.configVersion === pushed.version && row.acked && row.lastError === null;
    });
    expect(body.sidecars?.find((s) => s.id === "frontend-0")?.configVersion).toBe(pushed.version);
  });

  it("dry-runs a change: lists exactly the sidecars it would reach, stores and pushes nothing", async () => {
    const pushesBefore = frontend.configs.length;
    const { status, body } = await post<ApplyResult>("/v1/policies/apply", { yaml: canary(50, 50), dryRun: true });
    expect(status).toBe(200);
    expect(body).toMatchObject({ dryRun: true, changed: true, revision: 1, sidecars: null });
    expect(body.affectedSidecars).toEqual([{ id: "frontend-0", service: "frontend", namespace: "default", version: "v1" }]);
    expect(body.policies).toEqual([expect.objectContaining({ action: "updated", version: 2 })]);
    expect(body.policies[0]?.diff).toMatch(/^\+\s+weight: 50$/m);
    expect(await testDb.db.prisma.policyRevision.count()).toBe(1);
    expect((await testDb.db.prisma.policyVersion.findMany({ where: { version: 2 } })).length).toBe(0);
    // Any push the dry run had caused would be ordered before this apply's.
    const applied = await post<ApplyResult>("/v1/policies/apply", { yaml: canary(60, 40), wait: true });
    expect(applied.body.sidecars?.map((s) => s.id)).toEqual(["frontend-0"]);
    expect(frontend.configs.slice(pushesBefore).map(orderWeights)).toEqual(["order-service|v1=60,order-service|v2=40"]);
  });

  it("reports a NACKing sidecar with its error without holding back the others", async () => {
    const stubborn = connectFakeSidecar(controlPlane.port, workloadNode("frontend-1", "frontend", "v2", 32031, ["order-service"]), { autoAck: false });
    sidecars.push(stubborn);
    stubborn.ack(await stubborn.waitForConfig(() => true));
    const seen = stubborn.configs.length;

    const applying = post<ApplyResult>("/v1/policies/apply", { yaml: canary(70, 30), wait: true, author: "bob" });
    const push = await stubborn.waitForConfig((c) => stubborn.configs.indexOf(c) >= seen);
    stubborn.nack(push, "route order-service: cluster order-service|v2 has no endpoints I trust");
    const { body } = await applying;
    expect(body.sidecars?.map((s) => [s.id, s.status, s.error]).sort()).toEqual([
      ["frontend-0", "acked", null],
      ["frontend-1", "nacked", "route order-service: cluster order-service|v2 has no endpoints I trust"],
    ]);
    expect(orderWeights(frontend.configs.at(-1) as ConfigMessage)).toBe("order-service|v1=70,order-service|v2=30");
    await waitUntil("frontend-1's NACK in GET /v1/sidecars", async () => {
      const row = (await getJson<SidecarView[]>("/v1/sidecars")).find((s) => s.id === "frontend-1");
      return row?.acked === false && row.lastError === "route order-service: cluster order-service|v2 has no endpoints I trust";
    });
  });

  it("after a restart, builds snapshots from the policies in Postgres for the sidecars that reconnect", async () => {
    for (const sidecar of sidecars.splice(0)) sidecar.close();
    await waitUntil("every sidecar disconnected", async () => (await getJson<SidecarView[]>("/v1/sidecars")).every((s) => !s.connected));
    await controlPlane.stop();
    controlPlane = await startControlPlane({ db: testDb.db, port: controlPlane.port, log: { info: () => {}, warn: () => {}, error: console.error } });

    const again = connect("frontend-0", "frontend", "v1", 32001, ["order-service"]);
    const first = await again.waitForConfig(() => true);
    expect(orderWeights(first)).toBe("order-service|v1=70,order-service|v2=30");
  });
});
