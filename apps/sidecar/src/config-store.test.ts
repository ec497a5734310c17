import { describe, expect, it } from "vitest";
import { createConfigStore } from "./config-store.ts";

const good = (version: number) =>
  JSON.stringify({
    type: "config",
    version,
    nonce: `n${version}`,
    snapshot: { service: "frontend", clusters: { a: { endpoints: [] } }, routes: [{ upstream: "a", cluster: "a" }] },
  });

describe("config store", () => {
  it("applies a valid push", () => {
    const store = createConfigStore({ service: "frontend" });
    expect(store.apply(good(1))).toEqual({ ok: true, version: 1, nonce: "n1" });
    expect(store.current()?.version).toBe(1);
  });

  it("rejects an invalid push with the schema error and keeps the last good config", () => {
    const store = createConfigStore({ service: "frontend" });
    store.apply(good(1));
    const result = store.apply(JSON.stringify({ type: "config", version: 2, nonce: "n2", snapshot: { service: "frontend", routes: [] } }));
    expect(result).toMatchObject({ ok: false, version: 2, nonce: "n2", error: expect.stringContaining("snapshot.clusters") as string });
    expect(store.current()?.version).toBe(1);
  });

  it("rejects an inconsistent push (route to a missing cluster)", () => {
    const store = createConfigStore({ service: "frontend" });
    const bad = JSON.stringify({ type: "config", version: 3, nonce: "n3", snapshot: { service: "frontend", clusters: {}, routes: [{ upstream: "a", cluster: "a" }] } });
    expect(store.apply(bad)).toMatchObject({ ok: false, error: expect.stringContaining("inconsistent config") as string });
    expect(store.current()).toBeNull();
  });

  it("rejects a push meant for another service", () => {
    const store = createConfigStore({ service: "order-service" });
    expect(store.apply(good(1))).toMatchObject({ ok: false, error: expect.stringContaining('this sidecar serves "order-service"') as string });
  });
});
