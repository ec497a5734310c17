import { describe, expect, it } from "vitest";
import type { RegisteredWorkload } from "../snapshot.ts";
import { parseOrThrow } from "../testing/fixtures.ts";
import { buildSnapshot } from "./build.ts";
import { resolveAuthorization, resolveMtlsMode } from "./security.ts";

const pa = (name: string, namespace: string, mode: string, selector = "") =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${selector}  mtls: {mode: ${mode}}\n`;
const orders = "  selector: {matchLabels: {app: order-service}}\n";
const ordersWorkload = { namespace: "shop", labels: { app: "order-service", version: "v1" } };
const catalogWorkload = { namespace: "shop", labels: { app: "catalog-service", version: "v1" } };

describe("resolveMtlsMode", () => {
  it("defaults to PERMISSIVE", () => {
    expect(resolveMtlsMode(ordersWorkload, [])).toBe("PERMISSIVE");
  });

  it("prefers a workload selector over namespace-wide over mesh-wide", () => {
    const meshWide = parseOrThrow(pa("default", "istio-system", "STRICT"));
    const namespaceWide = parseOrThrow(pa("shop", "shop", "PERMISSIVE"));
    const workload = parseOrThrow(pa("orders", "shop", "DISABLE", orders));
    const all = [...meshWide, ...namespaceWide, ...workload];
    expect(resolveMtlsMode(ordersWorkload, all)).toBe("DISABLE");
    expect(resolveMtlsMode(catalogWorkload, all)).toBe("PERMISSIVE");
    expect(resolveMtlsMode({ namespace: "other", labels: {} }, all)).toBe("STRICT");
  });

  it("lets UNSET inherit from the enclosing scope", () => {
    const policies = parseOrThrow([pa("default", "istio-system", "STRICT"), pa("orders", "shop", "UNSET", orders)].join("---\n"));
    expect(resolveMtlsMode(ordersWorkload, policies)).toBe("STRICT");
  });

  it("ignores a namespace-wide policy of another namespace", () => {
    expect(resolveMtlsMode(ordersWorkload, parseOrThrow(pa("x", "default", "DISABLE")))).toBe("PERMISSIVE");
  });
});

describe("resolveAuthorization", () => {
  const ap = (name: string, namespace: string, selector = "") =>
    `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${selector}  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: [untrusted]}\n`;
  const policies = parseOrThrow([ap("mesh", "istio-system"), ap("shop-all", "shop"), ap("orders-only", "shop", orders), ap("elsewhere", "default")].join("---\n"));

  it("selects mesh-wide, namespace-wide and matching-selector policies, named namespace/name", () => {
    expect(resolveAuthorization(ordersWorkload, policies).map((p) => p.name)).toEqual(["istio-system/mesh", "shop/orders-only", "shop/shop-all"]);
    expect(resolveAuthorization(catalogWorkload, policies).map((p) => p.name)).toEqual(["istio-system/mesh", "shop/shop-all"]);
    expect(resolveAuthorization(ordersWorkload, policies)[0]).toEqual({ name: "istio-system/mesh", action: "DENY", rules: [{ from: [{ namespaces: ["untrusted"] }], to: [] }] });
  });
});

describe("buildSnapshot security", () => {
  const node: RegisteredWorkload = { id: "web-0", service: "web", namespace: "shop", version: "v1", mode: "sidecar", labels: { app: "web" }, address: "127.0.0.1:1", upstreams: ["order-service", "catalog-service"] };
  const order: RegisteredWorkload = { ...node, id: "order-0", service: "order-service", labels: { app: "order-service" }, address: "127.0.0.1:2", upstreams: [] };

  it("originates plaintext only to clusters whose endpoints all DISABLE mTLS", () => {
    const policies = parseOrThrow([pa("default", "istio-system", "STRICT"), pa("orders", "shop", "DISABLE", orders)].join("---\n"));
    const snapshot = buildSnapshot({ node, workloads: [node, order], policies });
    expect(snapshot.outboundMtls).toEqual({ "catalog-service": true, "order-service": false });
    expect(snapshot.inbound.mtlsMode).toBe("STRICT");
  });
});
