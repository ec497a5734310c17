import { describe, expect, it } from "vitest";
import { canonicalJson, snapshotSchema, type RegisteredWorkload } from "../snapshot.ts";
import { parseOrThrow, SEED_YAML } from "../testing/fixtures.ts";
import { buildSnapshot, buildSnapshots } from "./build.ts";
import { checkSnapshot } from "./check.ts";

function workload(service: string, version: string, port: number, upstreams: string[] = [], overrides: Partial<RegisteredWorkload> = {}): RegisteredWorkload {
  return {
    id: `${service}-${version}-0`,
    service,
    namespace: "default",
    version,
    mode: "sidecar",
    labels: { app: service, version },
    address: `127.0.0.1:${port}`,
    upstreams,
    ...overrides,
  };
}

// The demo mesh (apps/demo/src/topology.ts).
const frontend = workload("frontend", "v1", 15100, ["order-service", "catalog-service"]);
const orderV1 = workload("order-service", "v1", 15201, ["payment-service", "inventory-service"]);
const orderV2 = workload("order-service", "v2", 15202, ["payment-service", "inventory-service"]);
const payment = workload("payment-service", "v1", 15301);
const inventory = workload("inventory-service", "v1", 15401);
const catalog = workload("catalog-service", "v1", 15501);
const mesh = [frontend, orderV1, orderV2, payment, inventory, catalog];
const seed = parseOrThrow(SEED_YAML);

const endpointOf = (w: RegisteredWorkload) => ({ address: w.address, workloadId: w.id, version: w.version, labels: { app: w.service, version: w.version } });

describe("buildSnapshot from the seed policies on the demo mesh", () => {
  it("splits frontend's order-service traffic 90/10 over version-filtered subset clusters", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: mesh, policies: seed });
    expect(snapshot.virtualHosts).toEqual([
      { upstream: "catalog-service", routes: [{ match: [], destinations: [{ cluster: "catalog-service", weight: 100 }] }] },
      {
        upstream: "order-service",
        routes: [
          {
            match: [],
            destinations: [
              { cluster: "order-service|v1", weight: 90 },
              { cluster: "order-service|v2", weight: 10 },
            ],
          },
        ],
      },
    ]);
    expect(Object.keys(snapshot.clusters)).toEqual(["catalog-service", "order-service|v1", "order-service|v2"]);
    expect(snapshot.clusters["order-service|v1"]).toEqual({ service: "order-service", subset: "v1", endpoints: [endpointOf(orderV1)], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } });
    expect(snapshot.clusters["order-service|v2"]?.endpoints).toEqual([endpointOf(orderV2)]);
    expect(snapshot.outboundMtls).toEqual({ "catalog-service": true, "order-service|v1": true, "order-service|v2": true });
    expect(snapshot.inbound).toEqual({ mtlsMode: "STRICT", authorization: [] });
    expect(snapshotSchema.parse(snapshot)).toEqual(snapshot);
    expect(checkSnapshot(snapshot)).toEqual({ ok: true });
  });

  it("gives order-service the payment retries and timeout, and the payment cluster its pool and outlier detection", () => {
    const snapshot = buildSnapshot({ node: orderV2, workloads: mesh, policies: seed });
    expect(snapshot.virtualHosts.find((h) => h.upstream === "payment-service")).toEqual({
      upstream: "payment-service",
      routes: [
        {
          match: [],
          destinations: [{ cluster: "payment-service", weight: 100 }],
          timeoutMs: 10_000,
          retries: { attempts: 3, perTryTimeoutMs: 2000, retryOn: ["5xx", "connect-failure", "retriable-4xx"] },
        },
      ],
    });
    expect(snapshot.clusters["payment-service"]).toEqual({
      service: "payment-service",
      subset: null,
      endpoints: [endpointOf(payment)],
      trafficPolicy: {
        loadBalancer: "ROUND_ROBIN",
        connectionPool: { maxConnections: 100, maxPendingRequests: 100, maxRequests: 1000 },
        outlierDetection: { consecutive5xxErrors: 5, intervalMs: 30_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
      },
    });
    expect(Object.keys(snapshot.clusters)).toEqual(["inventory-service", "payment-service"]);
    expect(checkSnapshot(snapshot)).toEqual({ ok: true });
  });

  it("makes every node's inbound STRICT under the mesh-wide policy, and every snapshot consistent", () => {
    const snapshots = buildSnapshots({ workloads: mesh, policies: seed });
    expect([...snapshots.keys()].sort()).toEqual(mesh.map((w) => w.id).sort());
    for (const snapshot of snapshots.values()) {
      expect(snapshot.inbound.mtlsMode).toBe("STRICT");
      expect(checkSnapshot(snapshot)).toEqual({ ok: true });
    }
  });
});

describe("buildSnapshots sharing", () => {
  const replicas = [0, 1, 2].map((i) => workload("frontend", "v1", 15110 + i, ["order-service", "catalog-service"], { id: `frontend-v1-${i}`, labels: { app: "frontend", version: "v1", "pod-template-hash": `h${i}` } }));
  const withReplicas = [...replicas, ...mesh.filter((w) => w.service !== "frontend")];

  it("gives sidecars with the same inputs one snapshot object, equal to what each would get alone", () => {
    const snapshots = buildSnapshots({ workloads: withReplicas, policies: seed });
    const [a, b, c] = replicas.map((w) => snapshots.get(w.id));
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(a).toEqual(buildSnapshot({ node: replicas[2] as RegisteredWorkload, workloads: withReplicas, policies: seed }));
    // Same service and upstreams, different version label: nothing selects on it, so one snapshot serves both.
    expect(snapshots.get(orderV1.id)).toBe(snapshots.get(orderV2.id));
  });

  it("splits sidecars a PeerAuthentication or AuthorizationPolicy selector tells apart", () => {
    const policies = [
      ...seed,
      ...parseOrThrow(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: frontend-canary, namespace: default}
spec:
  selector: {matchLabels: {pod-template-hash: h1}}
  mtls: {mode: PERMISSIVE}
`),
    ];
    const snapshots = buildSnapshots({ workloads: withReplicas, policies });
    expect(snapshots.get("frontend-v1-0")).toBe(snapshots.get("frontend-v1-2"));
    expect(snapshots.get("frontend-v1-1")).not.toBe(snapshots.get("frontend-v1-0"));
    expect(snapshots.get("frontend-v1-1")?.inbound.mtlsMode).toBe("PERMISSIVE");
    expect(snapshots.get("frontend-v1-0")?.inbound.mtlsMode).toBe("STRICT");
  });

  it("builds only for the given nodes, with endpoints from every workload", () => {
    const snapshots = buildSnapshots({ workloads: mesh, nodes: [frontend], policies: seed });
    expect([...snapshots.keys()]).toEqual([frontend.id]);
    expect(snapshots.get(frontend.id)?.clusters["order-service|v2"]?.endpoints).toEqual([endpointOf(orderV2)]);
  });
});

describe("buildSnapshot without policies", () => {
  it("routes each upstream to its whole service, with PERMISSIVE inbound", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: mesh });
    expect(snapshot).toEqual({
      service: "frontend",
      namespace: "default",
      clusters: {
        "catalog-service": { service: "catalog-service", subset: null, endpoints: [endpointOf(catalog)], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } },
        "order-service": { service: "order-service", subset: null, endpoints: [endpointOf(orderV1), endpointOf(orderV2)], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } },
      },
      virtualHosts: [
        { upstream: "catalog-service", routes: [{ match: [], destinations: [{ cluster: "catalog-service", weight: 100 }] }] },
        { upstream: "order-service", routes: [{ match: [], destinations: [{ cluster: "order-service", weight: 100 }] }] },
      ],
      inbound: { mtlsMode: "PERMISSIVE", authorization: [] },
      outboundMtls: { "catalog-service": true, "order-service": true },
    });
  });

  it("keeps an upstream with no registered sidecars as an empty cluster (503 UH, not 404 NR)", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: [frontend] });
    expect(snapshot.clusters["order-service"]?.endpoints).toEqual([]);
    expect(snapshot.virtualHosts).toHaveLength(2);
  });

  it("leaves out gateways and workloads of other namespaces", () => {
    const gateway = workload("order-service", "v1", 1, [], { id: "gw", mode: "gateway" });
    const otherNs = workload("order-service", "v1", 2, [], { id: "other", namespace: "shop" });
    const snapshot = buildSnapshot({ node: frontend, workloads: [gateway, otherNs, orderV1] });
    expect(snapshot.clusters["order-service"]?.endpoints.map((e) => e.workloadId)).toEqual(["order-service-v1-0"]);
  });

  it("gives the same canonical form whatever order the registry and the policies come in", () => {
    const a = buildSnapshot({ node: frontend, workloads: mesh, policies: seed });
    const b = buildSnapshot({ node: { ...frontend, upstreams: ["catalog-service", "order-service"] }, workloads: [...mesh].reverse(), policies: [...seed].reverse() });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });
});

describe("buildSnapshot routing details", () => {
  const rules = parseOrThrow(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: order-service}
spec:
  host: order-service.default.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: LEAST_CONN}
    connectionPool: {tcp: {maxConnections: 10}}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: RANDOM}
      outlierDetection: {consecutiveGatewayErrors: 3}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: order-service}
spec:
  hosts: [order-service.default]
  http:
  - name: canary-header
    match:
    - headers: {x-canary: {exact: "1"}}
    route:
    - destination: {host: order-service, subset: v2}
    fault:
      abort: {httpStatus: 503, percentage: {value: 5}}
  - route:
    - destination: {host: order-service, subset: v1}
    mirror: {host: order-service, subset: v2}
    mirrorPercentage: {value: 10}
    retries: {attempts: 2}
`);

  it("keeps route order, matches, faults, mirrors and Istio's default retryOn", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: mesh, policies: rules });
    expect(snapshot.virtualHosts.find((h) => h.upstream === "order-service")?.routes).toEqual([
      { name: "canary-header", match: [{ headers: { "x-canary": { exact: "1" } } }], destinations: [{ cluster: "order-service|v2", weight: 100 }], fault: { abort: { httpStatus: 503, percentage: 5 } } },
      {
        match: [],
        destinations: [{ cluster: "order-service|v1", weight: 100 }],
        retries: { attempts: 2, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"], retriableStatusCodes: [503] },
        mirror: { cluster: "order-service|v2", percentage: 10 },
      },
    ]);
    expect(checkSnapshot(snapshot)).toEqual({ ok: true });
  });

  it("carries gRPC conditions and status codes, adding retriable-status-codes when only codes are given (as Istio does)", () => {
    const vs = (retryOn: string) =>
      parseOrThrow(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment-service}
spec:
  hosts: [payment-service]
  http:
  - route:
    - destination: {host: payment-service}
    retries: {attempts: 2, retryOn: "${retryOn}"}
`);
    const retriesOf = (retryOn: string) => buildSnapshot({ node: orderV1, workloads: mesh, policies: vs(retryOn) }).virtualHosts.find((h) => h.upstream === "payment-service")?.routes[0]?.retries;
    expect(retriesOf("5xx,503")).toEqual({ attempts: 2, retryOn: ["5xx", "retriable-status-codes"], retriableStatusCodes: [503] });
    expect(retriesOf("unavailable,cancelled")).toEqual({ attempts: 2, retryOn: ["unavailable", "cancelled"] });
    const snapshot = buildSnapshot({ node: orderV1, workloads: mesh, policies: vs("retriable-status-codes,429,deadline-exceeded") });
    expect(snapshotSchema.parse(JSON.parse(canonicalJson(snapshot)))).toEqual(snapshot);
  });

  it("merges a subset's traffic policy over the rule's, field by field, and maps LEAST_CONN to LEAST_REQUEST", () => {
    const snapshot = buildSnapshot({ node: frontend, workloads: mesh, policies: rules });
    expect(snapshot.clusters["order-service|v1"]?.trafficPolicy).toEqual({ loadBalancer: "LEAST_REQUEST", connectionPool: { maxConnections: 10 } });
    expect(snapshot.clusters["order-service|v2"]?.trafficPolicy).toEqual({
      loadBalancer: "RANDOM",
      connectionPool: { maxConnections: 10 },
      outlierDetection: { consecutiveGatewayErrors: 3, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 },
    });
  });

  it("ignores a VirtualService of another namespace", () => {
    const elsewhere = parseOrThrow(SEED_YAML.replace("metadata:\n  name: order-service\nspec:\n  hosts:", "metadata:\n  name: order-service\n  namespace: shop\nspec:\n  hosts:"));
    const snapshot = buildSnapshot({ node: frontend, workloads: mesh, policies: elsewhere });
    expect(snapshot.virtualHosts.find((h) => h.upstream === "order-service")?.routes[0]?.destinations).toEqual([{ cluster: "order-service", weight: 100 }]);
  });

  it("leaves out a subset no DestinationRule defines, so that checkSnapshot refuses the snapshot", () => {
    const withoutRules = seed.filter((p) => p.kind !== "DestinationRule");
    const result = checkSnapshot(buildSnapshot({ node: frontend, workloads: mesh, policies: withoutRules }));
    expect(result).toEqual({
      ok: false,
      errors: [
        'upstream "order-service" route 0 points at cluster "order-service|v1", which the snapshot does not contain',
        'upstream "order-service" route 0 points at cluster "order-service|v2", which the snapshot does not contain',
      ],
    });
  });
});
