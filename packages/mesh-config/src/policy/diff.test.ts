import { describe, expect, it } from "vitest";
import { parseOrThrow, SEED_YAML } from "../testing/fixtures.ts";
import { diffLines } from "./diff-lines.ts";
import { diffPolicies } from "./diff.ts";

const seed = parseOrThrow(SEED_YAML);
const canary = seed[1] ?? null;
const shifted = parseOrThrow(SEED_YAML.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"))[1] ?? null;

describe("diffPolicies", () => {
  it("shows a changed policy as a unified diff of its exported YAML", () => {
    expect(diffPolicies(canary, shifted)).toBe(
      [
        "--- a/VirtualService/default/order-service",
        "+++ b/VirtualService/default/order-service",
        "@@ -11,8 +11,8 @@",
        "         - destination:",
        "             host: order-service",
        "             subset: v1",
        "-          weight: 90",
        "+          weight: 50",
        "         - destination:",
        "             host: order-service",
        "             subset: v2",
        "-          weight: 10",
        "+          weight: 50",
        "",
      ].join("\n"),
    );
  });

  it("shows a creation and a removal against /dev/null", () => {
    const created = diffPolicies(null, canary);
    expect(created.split("\n").slice(0, 4)).toEqual(["--- /dev/null", "+++ b/VirtualService/default/order-service", "@@ -0,0 +1,18 @@", "+apiVersion: networking.istio.io/v1beta1"]);
    const removed = diffPolicies(canary, null);
    expect(removed.split("\n").slice(0, 3)).toEqual(["--- a/VirtualService/default/order-service", "+++ /dev/null", "@@ -1,18 +0,0 @@"]);
  });

  it("is empty when nothing changed", () => {
    expect(diffPolicies(canary, parseOrThrow(SEED_YAML)[1] ?? null)).toBe("");
    expect(diffPolicies(null, null)).toBe("");
  });

  it("splits distant changes into separate hunks", () => {
    const moved = parseOrThrow(SEED_YAML.replace("  hosts:\n  - order-service", "  hosts:\n  - order-service.default").replace("weight: 10", "weight: 11"))[1] ?? null;
    const diff = diffPolicies(canary, moved);
    expect(diff.split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ -5,7 +5,7 @@", "@@ -15,4 +15,4 @@"]);
  });
});

describe("diffLines", () => {
  it("finds the minimal edit and keeps common lines", () => {
    expect(diffLines(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual([
      { op: " ", text: "a" },
      { op: "-", text: "b" },
      { op: "+", text: "x" },
      { op: " ", text: "c" },
      { op: "+", text: "d" },
    ]);
  });
});
