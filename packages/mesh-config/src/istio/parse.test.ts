import { describe, expect, it } from "vitest";
import { formatPolicyError } from "../policy/errors.ts";
import { parseOrThrow, SEED_YAML, virtualService } from "../testing/fixtures.ts";
import { parsePolicies } from "./parse.ts";

function errorLines(yamlText: string): string[] {
  const result = parsePolicies(yamlText);
  if (result.ok) throw new Error("expected errors");
  return result.errors.map(formatPolicyError);
}

const simpleRoute = `  - route:
    - destination:
        host: order-service
`;

describe("parsePolicies: the seed", () => {
  it("parses the demo's seed with zero errors, normalising durations, retryOn and weights", () => {
    const policies = parseOrThrow(SEED_YAML);
    expect(policies.map((p) => `${p.kind}/${p.namespace}/${p.name}`)).toEqual([
      "PeerAuthentication/istio-system/default",
      "VirtualService/default/order-service",
      "VirtualService/default/payment-service",
      "DestinationRule/default/payment-service",
      "DestinationRule/default/order-service",
    ]);
    expect(policies[0]).toEqual({ kind: "PeerAuthentication", apiVersion: "security.istio.io/v1beta1", name: "default", namespace: "istio-system", spec: { mtlsMode: "STRICT" } });
    expect(policies[2]?.spec).toEqual({
      hosts: ["payment-service"],
      http: [
        {
          match: [],
          route: [{ destination: { host: "payment-service" }, weight: 100 }],
          timeoutMs: 10_000,
          retries: { attempts: 3, perTryTimeoutMs: 2000, retryOn: ["5xx", "connect-failure", "retriable-4xx"] },
        },
      ],
    });
    expect(policies[3]?.spec).toEqual({
      host: "payment-service",
      trafficPolicy: {
        connectionPool: { tcp: { maxConnections: 100 }, http: { h2UpgradePolicy: "DEFAULT", http1MaxPendingRequests: 100, http2MaxRequests: 1000 } },
        outlierDetection: { consecutive5xxErrors: 5, intervalMs: 30_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
      },
      subsets: [],
    });
  });

  it("accepts an empty input and skips empty documents without renumbering the others", () => {
    expect(parsePolicies("")).toEqual({ ok: true, policies: [] });
    expect(parsePolicies("# nothing\n")).toEqual({ ok: true, policies: [] });
    expect(errorLines(`---\n${virtualService("a", simpleRoute)}---\n---\nkind: Gateway\n`)).toEqual([
      'document 2 kind: "Gateway" is not a kind Trellis accepts; use one of AuthorizationPolicy, DestinationRule, PeerAuthentication, VirtualService (line 15)',
    ]);
  });
});

describe("parsePolicies: apiVersions", () => {
  it.each(["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"])("reads a VirtualService in %s and keeps the apiVersion", (apiVersion) => {
    const [vs] = parseOrThrow(virtualService("order-service", simpleRoute).replace("networking.istio.io/v1beta1", apiVersion));
    expect(vs?.apiVersion).toBe(apiVersion);
  });

  it.each(["security.istio.io/v1", "security.istio.io/v1beta1"])("reads a PeerAuthentication in %s", (apiVersion) => {
    const [pa] = parseOrThrow(`apiVersion: ${apiVersion}\nkind: PeerAuthentication\nmetadata:\n  name: default\nspec:\n  mtls:\n    mode: PERMISSIVE\n`);
    expect(pa).toEqual({ kind: "PeerAuthentication", apiVersion, name: "default", namespace: "default", spec: { mtlsMode: "PERMISSIVE" } });
  });

  it("refuses an apiVersion of the wrong group, naming the ones to use", () => {
    expect(errorLines(virtualService("order-service", simpleRoute).replace("networking.istio.io/v1beta1", "security.istio.io/v1"))).toEqual([
      'document 1 (VirtualService order-service) apiVersion: "security.istio.io/v1" is not an apiVersion for VirtualService; use networking.istio.io/v1 or networking.istio.io/v1beta1 or networking.istio.io/v1alpha3 (line 1)',
    ]);
  });

  it("refuses a document without kind", () => {
    expect(errorLines("apiVersion: v1\nmetadata:\n  name: x\n")).toEqual([
      'document 1 (x) kind: required field "kind" is missing; use one of AuthorizationPolicy, DestinationRule, PeerAuthentication, VirtualService (line 1)',
    ]);
  });
});

describe("parsePolicies: errors name the document, path and line", () => {
  it("reports YAML syntax errors with line and column", () => {
    expect(errorLines(`${virtualService("a", simpleRoute)}---\nkind: [VirtualService\nspec: 1\n`)).toEqual([
      "document 2: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 14, column 1)",
    ]);
  });

  it("names an unknown field", () => {
    const yaml = virtualService("order-service", "  - rout:\n    - destination:\n        host: order-service\n");
    expect(errorLines(`${virtualService("other", simpleRoute)}---\n${yaml}`)).toEqual([
      'document 2 (VirtualService order-service) spec.http[0].route: required field "route" is missing (line 21)',
      'document 2 (VirtualService order-service) spec.http[0].rout: unknown field "rout" (line 21)',
    ]);
  });

  it("says when a field is Istio's but not supported by Trellis", () => {
    expect(errorLines(virtualService("a", simpleRoute, "").replace("  http:", "  gateways: [mesh]\n  http:"))).toEqual([
      'document 1 (VirtualService a) spec.gateways: Istio field "gateways" is not supported by Trellis here; remove it (line 8)',
    ]);
  });

  it("refuses a duration that is not in Istio syntax", () => {
    expect(errorLines(virtualService("a", `${simpleRoute}    timeout: 2 seconds\n`))).toEqual([
      'document 1 (VirtualService a) spec.http[0].timeout: "2 seconds" is not a duration; use Istio syntax like 2s or 250ms (line 12)',
    ]);
  });

  it("refuses an unknown retry condition, listing the supported ones", () => {
    expect(errorLines(virtualService("a", `${simpleRoute}    retries:\n      attempts: 2\n      retryOn: 5xx,unavailabel\n`))).toEqual([
      'document 1 (VirtualService a) spec.http[0].retries.retryOn: "unavailabel" is not a retry condition Trellis supports; use a comma-separated list of 5xx, gateway-error, connect-failure, retriable-4xx, reset, reset-before-request, refused-stream, retriable-status-codes, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable, or an HTTP status code such as 503 (line 14)',
    ]);
  });

  it("refuses retriable-headers, envoy-ratelimited and out-of-range status codes with the reason", () => {
    expect(errorLines(virtualService("a", `${simpleRoute}    retries:\n      attempts: 2\n      retryOn: retriable-headers,envoy-ratelimited,700\n`))).toEqual([
      'document 1 (VirtualService a) spec.http[0].retries.retryOn: "retriable-headers" needs a list of retriable response headers, which a VirtualService cannot give; use retriable-status-codes or a status code such as 503 (line 14)',
      'document 1 (VirtualService a) spec.http[0].retries.retryOn: "envoy-ratelimited" retries responses carrying x-envoy-ratelimited, which only Envoy\'s rate-limit filter sets and Trellis has none; remove it (line 14)',
      "document 1 (VirtualService a) spec.http[0].retries.retryOn: 700 is not an HTTP status code; a status code in retryOn must be 100–599, e.g. 503 (line 14)",
    ]);
  });

  it("accepts Istio's gRPC conditions and bare status codes, which become retriable status codes", () => {
    const retriesOf = (retryOn: string) => {
      const [vs] = parseOrThrow(virtualService("a", `${simpleRoute}    retries:\n      attempts: 2\n      retryOn: ${retryOn}\n`));
      return vs?.kind === "VirtualService" ? vs.spec.http[0]?.retries : undefined;
    };
    expect(retriesOf("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes")).toEqual({
      attempts: 2,
      retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
    });
    expect(retriesOf("5xx, 503,5xx")).toEqual({ attempts: 2, retryOn: ["5xx"], retriableStatusCodes: [503] });
    expect(retriesOf("503,429")).toEqual({ attempts: 2, retryOn: [], retriableStatusCodes: [503, 429] });
    expect(retriesOf("reset-before-request,deadline-exceeded,internal,resource-exhausted")?.retryOn).toEqual(["reset-before-request", "deadline-exceeded", "internal", "resource-exhausted"]);
  });

  it("refuses an unknown enum value, naming the allowed ones", () => {
    expect(errorLines("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: shop\nspec:\n  mtls:\n    mode: strict\n")).toEqual([
      'document 1 (PeerAuthentication shop/default) spec.mtls.mode: "strict" is not allowed; use one of UNSET, STRICT, PERMISSIVE, DISABLE (line 8)',
    ]);
  });

  it("explains type mismatches and suggests quoting a label value", () => {
    const yaml = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\nspec:\n  host: r\n  subsets:\n  - name: v1\n    labels:\n      version: 1\n";
    expect(errorLines(yaml)).toEqual(['document 1 (DestinationRule r) spec.subsets[0].labels.version: expected a string, got 1; quote it ("1") (line 10)']);
    expect(errorLines(virtualService("a", simpleRoute).replace("  - a\n", "    a\n").replace("hosts:\n", "hosts: a\n").replace("    a\n", ""))).toEqual([
      'document 1 (VirtualService a) spec.hosts: expected a list, got "a" (line 6)',
    ]);
  });

  it("checks string matches and regexes", () => {
    const http = `  - match:\n    - uri:\n        prefix: /a\n        exact: /b\n    - headers:\n        x-canary:\n          regex: "(["\n${simpleRoute.replace("  - route", "    route")}`;
    expect(errorLines(virtualService("a", http))).toEqual([
      "document 1 (VirtualService a) spec.http[0].match[0].uri: set exactly one of exact, prefix or regex (found exact and prefix) (line 10)",
      expect.stringMatching(/^document 1 \(VirtualService a\) spec\.http\[0\]\.match\[1\]\.headers\.x-canary\.regex: "\(\[" is not a valid regular expression: .* \(line 15\)$/),
    ]);
  });

  it("gives every document's errors, not only the first", () => {
    const bad = virtualService("a", `${simpleRoute}    timeout: soon\n`);
    expect(errorLines(`${bad}---\n${bad.replace("name: a", "name: b")}`)).toHaveLength(2);
  });
});

describe("parsePolicies: normalisation", () => {
  it("defaults weights the way Istio does and reads match, fault and mirror", () => {
    const http = `  - name: canary
    match:
    - uri:
        prefix: /api
      method:
        exact: GET
      headers:
        x-b: {exact: "1"}
        x-a: {prefix: t}
    route:
    - destination: {host: order-service, subset: v1, port: {number: 8080}}
    - destination: {host: order-service, subset: v2}
      weight: 100
    fault:
      delay: {fixedDelay: 250ms}
      abort: {httpStatus: 503, percentage: {value: 12.5}}
    mirror: {host: order-service, subset: v2}
    mirrorPercentage: {value: 5}
`;
    const [vs] = parseOrThrow(virtualService("order-service", http, "  namespace: shop\n"));
    expect(vs?.namespace).toBe("shop");
    expect(vs?.kind === "VirtualService" && vs.spec.http[0]).toEqual({
      name: "canary",
      match: [{ uri: { prefix: "/api" }, method: { exact: "GET" }, headers: { "x-a": { prefix: "t" }, "x-b": { exact: "1" } } }],
      route: [
        { destination: { host: "order-service", subset: "v1", port: 8080 }, weight: 0 },
        { destination: { host: "order-service", subset: "v2" }, weight: 100 },
      ],
      fault: { delay: { fixedDelayMs: 250, percentage: 100 }, abort: { httpStatus: 503, percentage: 12.5 } },
      mirror: { destination: { host: "order-service", subset: "v2" }, percentage: 5 },
    });
  });

  it("reads an AuthorizationPolicy, unwrapping source and operation", () => {
    const yaml = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders, namespace: default}
spec:
  selector: {matchLabels: {app: order-service}}
  action: DENY
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/frontend"]}
    to:
    - operation: {methods: [POST], paths: ["/admin/*"]}
`;
    expect(parseOrThrow(yaml)[0]?.spec).toEqual({
      selector: { matchLabels: { app: "order-service" } },
      action: "DENY",
      rules: [{ from: [{ principals: ["cluster.local/ns/default/sa/frontend"] }], to: [{ methods: ["POST"], paths: ["/admin/*"] }] }],
    });
  });

  it("treats mtls mode UNSET as inherit (no mode)", () => {
    const [pa] = parseOrThrow("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {app: a}}\n  mtls: {mode: UNSET}\n");
    expect(pa?.spec).toEqual({ selector: { matchLabels: { app: "a" } } });
  });
});
