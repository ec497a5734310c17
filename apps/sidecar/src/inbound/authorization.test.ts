import type { InboundPolicy } from "@trellis/mesh-config";
import { describe, expect, it } from "vitest";
import { authorize, compileAuthorization, type AuthzRequest } from "./authorization.ts";

type Policies = InboundPolicy["authorization"];
type Rule = Policies[number]["rules"][number];

const frontend: AuthzRequest = { principal: "cluster.local/ns/default/sa/frontend", namespace: "default", path: "/orders/7", method: "GET" };
const plaintext: AuthzRequest = { principal: null, namespace: null, path: "/orders/7", method: "GET" };
const policy = (name: string, action: "ALLOW" | "DENY", rules: Rule[]): Policies[number] => ({ name: `default/${name}`, action, rules });

describe("authorize", () => {
  it("allows everything when no policy selects the workload", () => {
    expect(authorize([], frontend)).toBeNull();
  });

  it("denies when a DENY policy matches, even if an ALLOW matches too", () => {
    const policies = [policy("allow-all", "ALLOW", [{ from: [], to: [] }]), policy("no-admin", "DENY", [{ from: [], to: [{ paths: ["/admin*"] }] }])];
    expect(authorize(policies, { ...frontend, path: "/admin/users" })).toBe("denied by DENY policy default/no-admin");
    expect(authorize(policies, frontend)).toBeNull();
  });

  it("with ALLOW policies, denies what none of them matches", () => {
    const policies = [policy("frontend-only", "ALLOW", [{ from: [{ principals: ["cluster.local/ns/default/sa/frontend"] }], to: [] }])];
    expect(authorize(policies, frontend)).toBeNull();
    expect(authorize(policies, { ...frontend, principal: "cluster.local/ns/default/sa/intruder" })).toBe("no ALLOW policy matched (default/frontend-only)");
  });

  it("an ALLOW policy without rules allows nothing; a DENY policy without rules denies nothing", () => {
    expect(authorize([policy("allow-nothing", "ALLOW", [])], frontend)).not.toBeNull();
    expect(authorize([policy("deny-nothing", "DENY", [])], frontend)).toBeNull();
  });

  it("matches principals and namespaces with prefix, suffix and presence wildcards", () => {
    const allowing = (from: Rule["from"]) => [policy("p", "ALLOW", [{ from, to: [] }])];
    expect(authorize(allowing([{ principals: ["cluster.local/ns/default/*"] }]), frontend)).toBeNull();
    expect(authorize(allowing([{ principals: ["*/sa/frontend"] }]), frontend)).toBeNull();
    expect(authorize(allowing([{ principals: ["*"] }]), frontend)).toBeNull();
    expect(authorize(allowing([{ principals: ["*/sa/payment"] }]), frontend)).not.toBeNull();
    expect(authorize(allowing([{ namespaces: ["default"] }]), frontend)).toBeNull();
    expect(authorize(allowing([{ namespaces: ["shop", "prod-*"] }]), frontend)).not.toBeNull();
    expect(authorize(allowing([{ notNamespaces: ["default"] }]), frontend)).not.toBeNull();
    expect(authorize(allowing([{ notPrincipals: ["*/sa/payment"] }]), frontend)).toBeNull();
  });

  it("never matches principals or namespaces without a peer identity, so ALLOW by principal refuses plaintext", () => {
    expect(authorize([policy("p", "ALLOW", [{ from: [{ principals: ["*"] }], to: [] }])], plaintext)).not.toBeNull();
    expect(authorize([policy("n", "ALLOW", [{ from: [{ namespaces: ["*"] }], to: [] }])], plaintext)).not.toBeNull();
  });

  it("supports Istio's 'deny anything not mutual TLS' idiom: DENY notPrincipals *", () => {
    const policies = [policy("require-mtls", "DENY", [{ from: [{ notPrincipals: ["*"] }], to: [] }])];
    expect(authorize(policies, plaintext)).toBe("denied by DENY policy default/require-mtls");
    expect(authorize(policies, frontend)).toBeNull();
  });

  it("ANDs fields within a source or operation and ORs the entries of from and to", () => {
    const policies = [
      policy("reads", "ALLOW", [
        {
          from: [{ principals: ["*/sa/frontend"], namespaces: ["default"] }, { principals: ["*/sa/admin"] }],
          to: [{ methods: ["GET", "HEAD"], paths: ["/orders/*"] }, { methods: ["POST"], notPaths: ["*/cancel"] }],
        },
      ]),
    ];
    expect(authorize(policies, frontend)).toBeNull();
    expect(authorize(policies, { ...frontend, namespace: "other" })).not.toBeNull();
    expect(authorize(policies, { ...frontend, principal: "cluster.local/ns/other/sa/admin", namespace: "other", method: "POST", path: "/orders" })).toBeNull();
    expect(authorize(policies, { ...frontend, method: "POST", path: "/orders/7/cancel" })).not.toBeNull();
    expect(authorize(policies, { ...frontend, method: "DELETE" })).not.toBeNull();
    expect(authorize(policies, { ...frontend, path: "/payments" })).not.toBeNull();
  });

  it("matches paths exactly, by prefix and by suffix, and methods exactly", () => {
    const denying = (to: Rule["to"]) => [policy("d", "DENY", [{ from: [], to }])];
    expect(authorize(denying([{ paths: ["/orders/7"] }]), frontend)).not.toBeNull();
    expect(authorize(denying([{ paths: ["/orders"] }]), frontend)).toBeNull();
    expect(authorize(denying([{ paths: ["*.html"] }]), { ...frontend, path: "/index.html" })).not.toBeNull();
    expect(authorize(denying([{ methods: ["get"] }]), frontend)).toBeNull();
    expect(authorize(denying([{ notMethods: ["GET"] }]), frontend)).toBeNull();
  });

  it("compiles each pushed policy list once", () => {
    const policies = [policy("p", "ALLOW", [{ from: [], to: [] }])];
    expect(compileAuthorization(policies)).toBe(compileAuthorization(policies));
  });
});
