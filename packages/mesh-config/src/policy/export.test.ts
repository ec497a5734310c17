import { describe, expect, it } from "vitest";
import { parseOrThrow, SEED_YAML, virtualService } from "../testing/fixtures.ts";
import { exportPolicies, sortPolicies } from "./export.ts";

const rich = [
  virtualService(
    "order-service",
    `  - name: canary
    match:
    - uri: {regex: "^/api/v[0-9]+"}
      headers: {x-canary: {exact: "true"}}
    route:
    - destination: {host: order-service, subset: v2, port: {number: 8080}}
    fault:
      delay: {fixedDelay: 1.5s, percentage: {value: 10}}
      abort: {httpStatus: 503}
    mirror: {host: order-service, subset: v1}
    mirrorPercentage: {value: 2.5}
  - route:
    - destination: {host: order-service, subset: v1}
      weight: 100
    - destination: {host: order-service, subset: v2}
    retries: {attempts: 0}
    timeout: 250ms
  - match:
    - uri: {prefix: /grpc}
    route:
    - destination: {host: order-service, subset: v1}
    retries: {attempts: 2, retryOn: "unavailable,cancelled,503,retriable-status-codes,504"}
  - match:
    - uri: {prefix: /codes}
    route:
    - destination: {host: order-service, subset: v1}
    retries: {attempts: 1, retryOn: "503"}
`,
    "  namespace: shop\n  labels: {team: orders}\n",
  ),
  `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: order-service, namespace: shop}
spec:
  host: order-service
  trafficPolicy:
    loadBalancer: {simple: LEAST_CONN}
    connectionPool:
      tcp: {connectTimeout: 1m, maxConnections: 10}
      http: {idleTimeout: 1h, maxRequestsPerConnection: 0, maxRetries: 3}
  subsets:
  - name: v2
    labels: {version: v2, app: order-service}
    trafficPolicy:
      outlierDetection: {consecutiveGatewayErrors: 2}
  - name: v1
    labels: {version: v1}
`,
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: shop, annotations: {owner: sre}}
spec:
  action: DENY
  rules:
  - from:
    - source: {notNamespaces: [shop]}
    to:
    - operation: {paths: ["/admin/*"]}
  - {}
`,
  "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing}\nspec: {}\n",
  "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: orders, namespace: shop}\nspec:\n  selector: {matchLabels: {app: order-service}}\n",
].join("---\n");

describe("exportPolicies", () => {
  it("round-trips the seed: import → export → import gives identical policies", () => {
    const policies = parseOrThrow(SEED_YAML);
    expect(parseOrThrow(exportPolicies(policies))).toEqual(sortPolicies(policies));
  });

  it("round-trips every field Trellis reads", () => {
    const policies = parseOrThrow(rich);
    const exported = exportPolicies(policies);
    expect(parseOrThrow(exported)).toStrictEqual(sortPolicies(policies));
    expect(exportPolicies(parseOrThrow(exported))).toBe(exported);
  });

  it("orders documents by kind, namespace and name, whatever the input order", () => {
    const policies = parseOrThrow(rich);
    const exported = exportPolicies(policies);
    expect(exportPolicies([...policies].reverse())).toBe(exported);
    const heads = [...exported.matchAll(/^kind: (\w+)\nmetadata:\n {2}name: ([\w-]+)\n {2}namespace: ([\w-]+)/gm)].map((m) => `${m[1]}/${m[3]}/${m[2]}`);
    expect(heads).toEqual([
      "AuthorizationPolicy/default/allow-nothing",
      "AuthorizationPolicy/shop/deny-admin",
      "DestinationRule/shop/order-service",
      "PeerAuthentication/shop/orders",
      "VirtualService/shop/order-service",
    ]);
  });

  it("writes Istio syntax: durations, retryOn as a comma list, percentages, namespace made explicit", () => {
    const exported = exportPolicies(parseOrThrow(SEED_YAML));
    expect(exported).toContain("      timeout: 10s\n      retries:\n        attempts: 3\n        perTryTimeout: 2s\n        retryOn: 5xx,connect-failure,retriable-4xx\n");
    expect(exported).toContain("      interval: 30s\n");
    expect(exported).toContain("metadata:\n  name: order-service\n  namespace: default\n");
    const richExport = exportPolicies(parseOrThrow(rich));
    expect(richExport).toContain("fixedDelay: 1500ms");
    expect(richExport).toContain("connectTimeout: 1m");
    expect(richExport).toContain("mirrorPercentage:\n        value: 2.5");
    expect(richExport).toContain("retryOn: unavailable,cancelled,retriable-status-codes,503,504\n");
    expect(richExport).toContain('retryOn: "503"\n');
  });

  it("gives the empty string for no policies, which imports as none", () => {
    expect(exportPolicies([])).toBe("");
    expect(parseOrThrow("")).toEqual([]);
  });
});
