import { describe, expect, it } from "vitest";
import { classifyErrorRate } from "./error-level.ts";
import { formatMs, formatPercent, formatRate } from "./format.ts";

describe("formatRate", () => {
  it("keeps small rates visible and large ones short", () => {
    expect([0, 0.004, 0.0333, 2.46, 12.34, 1234.5, 25_400].map(formatRate)).toEqual(["0", "<0.01", "0.03", "2.5", "12.3", "1,235", "25.4k"]);
  });
});

describe("formatPercent", () => {
  it("shows one decimal and never rounds a real error rate down to zero", () => {
    expect([0, 0.0004, 0.0333, 0.5, 1].map(formatPercent)).toEqual(["0%", "<0.1%", "3.3%", "50.0%", "100%"]);
  });
});

describe("formatMs", () => {
  it("switches units with the magnitude and marks a missing value", () => {
    expect([null, 0.42, 12.6, 1234].map(formatMs)).toEqual(["—", "0.4 ms", "13 ms", "1.23 s"]);
  });
});

describe("classifyErrorRate", () => {
  it("uses 1% and 5% as the warning and critical thresholds", () => {
    expect([0, 0.0099, 0.01, 0.049, 0.05, 0.5].map((rate) => classifyErrorRate(rate))).toEqual(["ok", "ok", "warning", "warning", "critical", "critical"]);
  });
  it("calls a workload with no traffic idle", () => {
    expect(classifyErrorRate(0, 0)).toBe("idle");
  });
});
