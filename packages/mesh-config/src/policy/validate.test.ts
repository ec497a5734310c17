import { describe, expect, it } from "vitest";
import { parseOrThrow, SEED_YAML, virtualService } from "../testing/fixtures.ts";
import { formatPolicyError } from "./errors.ts";
import { mergePolicies, validateApply } from "./merge.ts";
import { validatePolicySet } from "./validate.ts";

const lines = (yamlText: string) => validatePolicySet(parseOrThrow(yamlText)).map(formatPolicyError);

const orderSubsets = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: order-service}
spec:
  host: order-service
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const split = (w1: number, w2: number, subset2 = "v2") => `  - route:
    - destination: {host: order-service, subset: v1}
      weight: ${w1}
    - destination: {host: order-service, subset: ${subset2}}
      weight: ${w2}
`;

describe("validatePolicySet", () => {
  it("accepts the seed", () => {
    expect(lines(SEED_YAML)).toEqual([]);
  });

  it("refuses route weights that do not sum to 100", () => {
    expect(lines(`${orderSubsets}---\n${virtualService("order-service", split(90, 20))}`)).toEqual([
      "document 2 (VirtualService order-service) spec.http[0].route: weights sum to 110, expected 100",
    ]);
  });

  it("counts an unweighted destination among several as 0", () => {
    const http = "  - route:\n    - destination: {host: order-service, subset: v1}\n    - destination: {host: order-service, subset: v2}\n";
    expect(lines(`${orderSubsets}---\n${virtualService("order-service", http)}`)).toEqual([
      "document 2 (VirtualService order-service) spec.http[0].route: weights sum to 0, expected 100",
    ]);
  });

  it("refuses a subset no DestinationRule defines, for routes and mirrors", () => {
    const http = `${split(90, 10, "v3")}    mirror: {host: order-service, subset: shadow}\n`;
    expect(lines(`${orderSubsets}---\n${virtualService("order-service", http)}`)).toEqual([
      'document 2 (VirtualService order-service) spec.http[0].route[1].destination: subset "v3" is not defined by any DestinationRule for order-service',
      'document 2 (VirtualService order-service) spec.http[0].mirror: subset "shadow" is not defined by any DestinationRule for order-service',
    ]);
  });

  it("matches subsets across host spellings, and only in the service's namespace", () => {
    const fqdn = virtualService("order-service", split(50, 50).replaceAll("host: order-service,", "host: order-service.default.svc.cluster.local,"));
    expect(lines(`${orderSubsets}---\n${fqdn}`)).toEqual([]);
    const otherNamespace = virtualService("order-service", split(50, 50), "  namespace: shop\n");
    expect(lines(`${orderSubsets}---\n${otherNamespace}`)).toHaveLength(2);
  });

  it("refuses the same kind, namespace and name twice", () => {
    expect(lines(`${orderSubsets}---\n${orderSubsets}`)).toEqual([
      "document 2 (DestinationRule order-service) metadata.name: DestinationRule default/order-service appears more than once; keep one of them",
      "document 2 (DestinationRule order-service) spec.host: DestinationRule default/order-service already configures order-service; merge the two into one (subsets and trafficPolicy)",
    ]);
  });

  it("refuses two DestinationRules and two VirtualServices for one host", () => {
    const second = orderSubsets.replace("name: order-service}", "name: order-canary}").replace("host: order-service", "host: order-service.default");
    const vs2 = virtualService("order-service", "  - route:\n    - destination: {host: order-service}\n").replace("name: order-service\n", "name: order-two\n");
    expect(lines(`${orderSubsets}---\n${second}---\n${virtualService("order-service", split(90, 10))}---\n${vs2}`)).toEqual([
      "document 2 (DestinationRule order-canary) spec.host: DestinationRule default/order-service already configures order-service.default; merge the two into one (subsets and trafficPolicy)",
      "document 4 (VirtualService order-two) spec.hosts[0]: VirtualService default/order-service already routes order-service; merge the two into one",
    ]);
  });

  it("refuses duplicate subset names", () => {
    expect(lines(orderSubsets.replace("name: v2,", "name: v1,"))).toEqual([
      'document 1 (DestinationRule order-service) spec.subsets[1].name: subset "v1" is defined twice; subset names must be unique',
    ]);
  });

  it("allows one mesh-wide and one namespace-wide PeerAuthentication per namespace, and no selector in the root namespace", () => {
    const pa = (name: string, namespace: string, selector = "") => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${selector}  mtls: {mode: STRICT}\n`;
    const yaml = [
      pa("default", "istio-system"),
      pa("again", "istio-system"),
      pa("shop", "shop"),
      pa("orders", "shop", "  selector: {matchLabels: {app: order-service}}\n"),
      pa("gateways", "istio-system", "  selector: {matchLabels: {app: gw}}\n"),
    ].join("---\n");
    expect(lines(yaml)).toEqual([
      "document 2 (PeerAuthentication istio-system/again) spec: PeerAuthentication istio-system/default is already the mesh-wide policy; keep one, or add a spec.selector to this one",
      "document 5 (PeerAuthentication istio-system/gateways) spec.selector: a PeerAuthentication in the root namespace istio-system is mesh-wide only without a selector; remove spec.selector, or move the policy to the namespace of the workloads it selects",
    ]);
  });

  it("checks AuthorizationPolicy paths and methods", () => {
    const yaml = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders}
spec:
  rules:
  - to:
    - operation: {paths: ["/api/*", "*.js", "admin", "/a/*/b"], methods: [GET, post]}
`;
    expect(lines(yaml)).toEqual([
      'document 1 (AuthorizationPolicy orders) spec.rules[0].to[0].operation.paths[2]: "admin" must start with "/" (or "*" for a suffix match), e.g. /api/*',
      'document 1 (AuthorizationPolicy orders) spec.rules[0].to[0].operation.paths[3]: "/a/*/b": "*" is only allowed at the start or the end of a path',
      'document 1 (AuthorizationPolicy orders) spec.rules[0].to[0].operation.methods[1]: "post" is not an HTTP method; write it in upper case, e.g. GET',
    ]);
  });

  it("accepts a perTryTimeout longer than the timeout (Istio does; the timeout caps each try)", () => {
    const http = "  - route:\n    - destination: {host: a}\n    timeout: 1s\n    retries: {attempts: 2, perTryTimeout: 5s}\n";
    expect(lines(virtualService("a", http))).toEqual([]);
  });
});

describe("mergePolicies and validateApply", () => {
  const seed = parseOrThrow(SEED_YAML);

  it("replaces stored policies with applied ones of the same key", () => {
    const applied = parseOrThrow(virtualService("order-service", split(50, 50)));
    const merged = mergePolicies(seed, applied);
    expect(merged).toHaveLength(seed.length);
    expect(merged.at(-1)).toBe(applied[0]);
    expect(validateApply(seed, applied)).toEqual([]);
  });

  it("numbers errors by the applied document", () => {
    const applied = parseOrThrow(`${orderSubsets.replace("order-service}", "other}").replace("host: order-service", "host: other")}---\n${virtualService("order-service", split(90, 20))}`);
    expect(validateApply(seed, applied).map(formatPolicyError)).toEqual([
      "document 2 (VirtualService order-service) spec.http[0].route: weights sum to 110, expected 100",
    ]);
  });

  it("blames a stored policy that the apply breaks, as stored", () => {
    const withoutV2 = parseOrThrow(orderSubsets.replace("  - {name: v2, labels: {version: v2}}\n", ""));
    expect(validateApply(seed, withoutV2).map(formatPolicyError)).toEqual([
      'stored VirtualService order-service spec.http[0].route[1].destination: subset "v2" is not defined by any DestinationRule for order-service',
    ]);
  });

  it("does not blame an apply for errors the stored set already had", () => {
    const broken = parseOrThrow(virtualService("order-service", split(90, 10, "v9")));
    const unrelated = parseOrThrow(virtualService("catalog-service", "  - route:\n    - destination: {host: catalog-service}\n"));
    expect(validateApply(broken, unrelated)).toEqual([]);
  });
});
