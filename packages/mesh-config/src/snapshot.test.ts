import { describe, expect, it } from "vitest";
import { buildSnapshot, canonicalJson, checkSnapshot, snapshotSchema, type RegisteredWorkload } from "./snapshot.ts";

function workload(overrides: Partial<RegisteredWorkload> & Pick<RegisteredWorkload, "id" | "service">): RegisteredWorkload {
  return { namespace: "default", version: "v1", mode: "sidecar", labels: {}, address: "127.0.0.1:1", upstreams: [], ...overrides };
}

const frontend = workload({ id: "frontend-v1-0", service: "frontend", upstreams: ["order-service", "catalog-service"] });
const catalog = workload({ id: "catalog-v1-0", service: "catalog-service", address: "127.0.0.1:15101", labels: { version: "v1", app: "catalog-service" } });
const orderV2 = workload({ id: "order-v2-0", service: "order-service", version: "v2", address: "127.0.0.1:15202" });
const orderV1 = workload({ id: "order-v1-0", service: "order-service", address: "127.0.0.1:15201" });

describe("buildSnapshot", () => {
  it("makes one cluster and one default route per upstream, holding that service's sidecars", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: [frontend, catalog, orderV2, orderV1] });
    expect(snapshot).toEqual({
      service: "frontend",
      clusters: {
        "catalog-service": {
          endpoints: [{ address: "127.0.0.1:15101", workloadId: "catalog-v1-0", version: "v1", labels: { app: "catalog-service", version: "v1" } }],
        },
        "order-service": {
          endpoints: [
            { address: "127.0.0.1:15201", workloadId: "order-v1-0", version: "v1", labels: {} },
            { address: "127.0.0.1:15202", workloadId: "order-v2-0", version: "v2", labels: {} },
          ],
        },
      },
      routes: [
        { upstream: "catalog-service", cluster: "catalog-service" },
        { upstream: "order-service", cluster: "order-service" },
      ],
    });
    expect(snapshotSchema.parse(snapshot)).toEqual(snapshot);
  });

  it("keeps an upstream with no registered sidecars as an empty cluster (the sidecar answers 503 UH, not 404 NR)", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: [frontend] });
    expect(snapshot.clusters["order-service"]).toEqual({ endpoints: [] });
    expect(snapshot.routes).toHaveLength(2);
  });

  it("leaves out gateways and workloads of other namespaces", () => {
    const gateway = workload({ id: "gw", service: "order-service", mode: "gateway" });
    const otherNs = workload({ id: "other", service: "order-service", namespace: "shop" });
    const snapshot = buildSnapshot({ node: frontend, workloads: [gateway, otherNs, orderV1] });
    expect(snapshot.clusters["order-service"]?.endpoints.map((e) => e.workloadId)).toEqual(["order-v1-0"]);
  });

  it("gives the same canonical form whatever order the registry lists workloads in", () => {
    const a = buildSnapshot({ node: frontend, workloads: [orderV1, orderV2, catalog] });
    const b = buildSnapshot({ node: { ...frontend, upstreams: ["catalog-service", "order-service"] }, workloads: [catalog, orderV2, orderV1] });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });
});

describe("checkSnapshot", () => {
  it("accepts a built snapshot", () => {
    expect(checkSnapshot(buildSnapshot({ node: frontend, workloads: [orderV1] }))).toEqual({ ok: true });
  });

  it("rejects a route whose cluster is missing, naming both", () => {
    const result = checkSnapshot({ service: "frontend", clusters: {}, routes: [{ upstream: "order-service", cluster: "order-service" }] });
    expect(result).toEqual({
      ok: false,
      errors: ['route for upstream "order-service" points at cluster "order-service", which the snapshot does not contain'],
    });
  });

  it("rejects two routes for one upstream", () => {
    const result = checkSnapshot({
      service: "frontend",
      clusters: { a: { endpoints: [] } },
      routes: [
        { upstream: "x", cluster: "a" },
        { upstream: "x", cluster: "a" },
      ],
    });
    expect(result.ok).toBe(false);
  });

  it("does not mistake inherited object properties for clusters", () => {
    const result = checkSnapshot({ service: "frontend", clusters: {}, routes: [{ upstream: "x", cluster: "toString" }] });
    expect(result.ok).toBe(false);
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every depth and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
  });
});
