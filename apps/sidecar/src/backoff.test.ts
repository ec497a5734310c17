import { describe, expect, it } from "vitest";
import { computeBackoff } from "./backoff.ts";

describe("computeBackoff", () => {
  const options = { baseMs: 100, capMs: 1_000 };

  it("doubles per attempt until the cap", () => {
    const top = (attempt: number) => computeBackoff(attempt, { ...options, random: () => 1 });
    expect([0, 1, 2, 3, 4, 10, 1000].map(top)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("jitters within the upper half of the window", () => {
    expect(computeBackoff(2, { ...options, random: () => 0 })).toBe(200);
    expect(computeBackoff(2, { ...options, random: () => 0.5 })).toBe(300);
  });
});
