import { describe, expect, it } from "vitest";
import { classifyStatus, createOutlierDetector, ejectionTime, mayEject, MAX_EJECTION_MS } from "./outlier.ts";

const config = { consecutive5xxErrors: 3, intervalMs: 1_000, baseEjectionTimeMs: 10_000, maxEjectionPercent: 50 };

describe("outlier detection", () => {
  it("ejects after consecutive 5xx, a success in between starting the count again", () => {
    const returned: string[] = [];
    const detector = createOutlierDetector((id) => returned.push(id));
    expect(detector.record("a", "5xx", config, 4, 0)).toBe(false);
    expect(detector.record("a", "5xx", config, 4, 0)).toBe(false);
    detector.record("a", "success", config, 4, 0);
    expect(detector.record("a", "5xx", config, 4, 0)).toBe(false);
    expect(detector.record("a", "5xx", config, 4, 0)).toBe(false);
    expect(detector.record("a", "gateway-error", config, 4, 0)).toBe(true);
    expect(detector.isEjected("a", 9_999)).toBe(true);
    expect(detector.ejectedCount()).toBe(1);
    // Lazily returned on the first look after the ejection time.
    expect(detector.isEjected("a", 10_000)).toBe(false);
    expect(returned).toEqual(["a"]);
    expect(detector.ejectedCount()).toBe(0);
  });

  it("ejects on consecutive gateway errors when that limit is lower, and not at all when both limits are 0", () => {
    const detector = createOutlierDetector(() => {});
    const gateway = { ...config, consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 };
    expect(detector.record("a", "5xx", gateway, 4, 0)).toBe(false);
    expect(detector.record("a", "gateway-error", gateway, 4, 0)).toBe(false);
    expect(detector.record("a", "gateway-error", gateway, 4, 0)).toBe(true);
    const off = { ...config, consecutive5xxErrors: 0 };
    for (let i = 0; i < 10; i += 1) expect(detector.record("b", "gateway-error", off, 4, 0)).toBe(false);
  });

  it("ejects for base × times ejected, and the multiplier decays on healthy intervals", () => {
    const detector = createOutlierDetector(() => {});
    const trip = (now: number) => [0, 1, 2].map(() => detector.record("a", "5xx", config, 2, now)).includes(true);
    expect(trip(0)).toBe(true);
    detector.sweep(10_000); // ends the first ejection
    expect(trip(10_000)).toBe(true);
    expect(detector.health("a")).toMatchObject({ timesEjected: 2, ejectedUntil: 30_000 });
    detector.sweep(30_000);
    detector.sweep(31_000);
    expect(detector.health("a")?.timesEjected).toBe(1);
  });

  it("never ejects more than maxEjectionPercent, but always one of a cluster", () => {
    const detector = createOutlierDetector(() => {});
    const trip = (id: string) => [0, 1, 2].map(() => detector.record(id, "5xx", { ...config, maxEjectionPercent: 10 }, 2, 0)).includes(true);
    expect(trip("a")).toBe(true);
    expect(trip("b")).toBe(false);
    expect(detector.ejectedCount()).toBe(1);
    expect([mayEject(0, 2, 10), mayEject(1, 2, 50), mayEject(1, 4, 50), mayEject(2, 4, 50), mayEject(0, 3, 0)]).toEqual([true, false, true, false, false]);
  });

  it("forgets endpoints that left the cluster", () => {
    const detector = createOutlierDetector(() => {});
    for (let i = 0; i < 3; i += 1) detector.record("a", "5xx", config, 2, 0);
    detector.retain(new Set(["b"]));
    expect(detector.ejectedCount()).toBe(0);
    expect(detector.health("a")).toBeUndefined();
  });

  it("caps an ejection at 300 s and classifies statuses", () => {
    expect(ejectionTime(30_000, 3)).toBe(90_000);
    expect(ejectionTime(30_000, 50)).toBe(MAX_EJECTION_MS);
    expect([200, 404, 500, 501, 502, 503, 504].map(classifyStatus)).toEqual(["success", "success", "5xx", "5xx", "gateway-error", "gateway-error", "gateway-error"]);
  });
});
