import { describe, expect, it } from "vitest";
import { formatPath, formatPolicyError } from "./errors.ts";

describe("formatPolicyError", () => {
  it("names the document, the policy, the path and the problem on one line", () => {
    expect(formatPolicyError({ document: 2, kind: "VirtualService", namespace: "default", name: "order-service", path: "spec.http[0].route", message: "weights sum to 110, expected 100" })).toBe(
      "document 2 (VirtualService order-service) spec.http[0].route: weights sum to 110, expected 100",
    );
  });

  it("shows a namespace other than default, and the source position when known", () => {
    expect(formatPolicyError({ document: 1, kind: "PeerAuthentication", namespace: "istio-system", name: "default", path: "spec.mtls.mode", message: "m", line: 9 })).toBe(
      "document 1 (PeerAuthentication istio-system/default) spec.mtls.mode: m (line 9)",
    );
    expect(formatPolicyError({ document: 3, path: "", message: "invalid YAML: x", line: 4, column: 2 })).toBe("document 3: invalid YAML: x (line 4, column 2)");
  });

  it("marks a stored policy", () => {
    expect(formatPolicyError({ document: 0, kind: "VirtualService", namespace: "default", name: "a", path: "spec", message: "m" })).toBe("stored VirtualService a spec: m");
  });
});

describe("formatPath", () => {
  it("writes indices in brackets", () => {
    expect(formatPath(["spec", "http", 0, "route", 1, "destination"])).toBe("spec.http[0].route[1].destination");
  });
});
