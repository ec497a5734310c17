import { describe, expect, it } from "vitest";
import type { Snapshot } from "@trellis/mesh-config";
import { createConfigStore } from "./config-store.ts";
import { routingTableFor } from "./outbound/routing-table.ts";
import { testCluster, testEndpoint, testRoute, testSnapshot } from "./testing/snapshots.ts";

const snapshotWith = (routes = [testRoute("a")]): Snapshot =>
  testSnapshot({ clusters: [testCluster("a", null, [testEndpoint("a-0")])], virtualHosts: [{ upstream: "a", routes }] });
const line = (version: number, snapshot: unknown) => JSON.stringify({ type: "config", version, nonce: `n${version}`, snapshot });
const good = (version: number) => line(version, snapshotWith());

describe("config store", () => {
  it("applies a valid push, compiled for routing before any request needs it", () => {
    const store = createConfigStore({ service: "frontend" });
    expect(store.apply(good(1))).toEqual({ ok: true, version: 1, nonce: "n1" });
    const current = store.current();
    expect(current?.version).toBe(1);
    expect(current && routingTableFor(current.snapshot)?.virtualHosts.has("a")).toBe(true);
  });

  it("rejects an invalid push with the schema error and keeps the last good config", () => {
    const store = createConfigStore({ service: "frontend" });
    store.apply(good(1));
    const result = store.apply(line(2, { service: "frontend", namespace: "default", virtualHosts: [] }));
    expect(result).toMatchObject({ ok: false, version: 2, nonce: "n2", error: expect.stringContaining("snapshot.clusters") as string });
    expect(store.current()?.version).toBe(1);
  });

  it("rejects an inconsistent push (a route to a missing cluster)", () => {
    const store = createConfigStore({ service: "frontend" });
    expect(store.apply(line(3, snapshotWith([testRoute("a|v9")])))).toMatchObject({ ok: false, error: expect.stringContaining('"a|v9"') as string });
    expect(store.current()).toBeNull();
  });

  it("rejects a push whose regex this sidecar cannot compile, keeping the last good config", () => {
    const store = createConfigStore({ service: "frontend" });
    store.apply(good(1));
    const result = store.apply(line(4, snapshotWith([testRoute("a", { match: [{ uri: { regex: "/orders/(" } }] })])));
    expect(result).toMatchObject({ ok: false, version: 4, error: expect.stringContaining('"/orders/("') as string });
    expect(store.current()?.version).toBe(1);
  });

  it("rejects a push meant for another service", () => {
    const store = createConfigStore({ service: "order-service" });
    expect(store.apply(good(1))).toMatchObject({ ok: false, error: expect.stringContaining('this sidecar serves "order-service"') as string });
  });
});
