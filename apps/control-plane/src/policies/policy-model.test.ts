// The store's use of the policy model: kinds as people type them, errors numbered by the caller's documents (or
// "stored" for a policy the apply breaks), stored rows back to policies, and which sidecars a change reaches.
import { describe, expect, it } from "vitest";
import { parsePolicies, type Policy, type RegisteredWorkload } from "@trellis/mesh-config";
import { findAffectedWorkloads, mergeAndValidate, normalizeKind, samePolicy, toChange, toPolicy } from "./policy-model.ts";

function parse(yaml: string): Policy[] {
  const result = parsePolicies(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policies;
}

const subsets = parse(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`);

const canary = (v1: number, v2: number) =>
  parse(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, labels: { team: books } }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: ${v1} }
    - { destination: { host: reviews, subset: v2 }, weight: ${v2} }
`);

function workload(id: string, service: string, upstreams: string[] = []): RegisteredWorkload {
  return { id, service, namespace: "default", version: "v1", mode: "sidecar", labels: { app: service, version: "v1" }, address: "127.0.0.1:1", upstreams };
}

describe("normalizeKind", () => {
  it("accepts any case, plurals and kubectl's short names", () => {
    expect(["VirtualService", "virtualservice", "virtualservices", "vs"].map(normalizeKind)).toEqual(Array(4).fill("VirtualService"));
    expect(normalizeKind("dr")).toBe("DestinationRule");
    expect(normalizeKind("Gateway")).toBeNull();
  });
});

describe("mergeAndValidate", () => {
  it("numbers an error by the caller's document", () => {
    const result = mergeAndValidate(subsets, [...subsets, ...canary(90, 20)]);
    expect(result).toEqual({ ok: false, errors: ["document 2 (VirtualService reviews) spec.http[0].route: weights sum to 110, expected 100"] });
  });

  it("blames a stored policy the apply breaks as stored", () => {
    const withoutV2 = parse(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
`);
    const result = mergeAndValidate([...subsets, ...canary(90, 10)], withoutV2);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([expect.stringMatching(/^stored VirtualService reviews spec\.http\[0\]\.route\[1\]\.destination: subset "v2" is not defined/)]);
  });

  it("returns the merged set when valid", () => {
    const result = mergeAndValidate([...subsets, ...canary(90, 10)], canary(50, 50));
    expect(result.ok && result.policies.map((p) => p.kind)).toEqual(["DestinationRule", "VirtualService"]);
  });
});

describe("stored rows", () => {
  it("round-trip a policy with its labels", () => {
    const [policy] = canary(90, 10) as [Policy];
    const change = toChange(policy, "yaml", "diff", "created");
    expect(change.metadata).toEqual({ labels: { team: "books" } });
    const restored = toPolicy({ ...change, spec: JSON.parse(JSON.stringify(change.spec)) as unknown, version: 1, revision: 1, author: "a", updatedAt: new Date() });
    expect(samePolicy(restored, policy)).toBe(true);
    expect(samePolicy(restored, canary(80, 20)[0] as Policy)).toBe(false);
  });
});

describe("findAffectedWorkloads", () => {
  it("names only the sidecars whose snapshot the change alters", () => {
    const workloads = [workload("productpage-0", "productpage", ["reviews"]), workload("reviews-0", "reviews"), workload("ratings-0", "ratings")];
    const affected = findAffectedWorkloads({ nodes: workloads, workloads, before: [...subsets, ...canary(90, 10)], after: [...subsets, ...canary(50, 50)] });
    expect(affected.map((w) => w.id)).toEqual(["productpage-0"]);
    expect(findAffectedWorkloads({ nodes: workloads, workloads, before: subsets, after: subsets })).toEqual([]);
  });

  it("names every sidecar of a group that shares one snapshot, and only the nodes asked about", () => {
    const callers = [workload("productpage-0", "productpage", ["reviews"]), workload("productpage-1", "productpage", ["reviews"])];
    const workloads = [...callers, workload("reviews-0", "reviews")];
    const change = { before: [...subsets, ...canary(90, 10)], after: [...subsets, ...canary(50, 50)] };
    expect(findAffectedWorkloads({ nodes: workloads, workloads, ...change }).map((w) => w.id)).toEqual(["productpage-0", "productpage-1"]);
    expect(findAffectedWorkloads({ nodes: callers.slice(1), workloads, ...change }).map((w) => w.id)).toEqual(["productpage-1"]);
  });
});
