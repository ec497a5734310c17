import { describe, expect, it } from "vitest";
import { createWindow, formatSummary, percentile, recordResponse } from "./summary.ts";

describe("percentile", () => {
  it("uses the nearest rank", () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe("formatSummary", () => {
  it("counts successes, failures by status, no-responses and skips on one line", () => {
    const w = createWindow(0);
    for (let i = 0; i < 296; i++) recordResponse(w, 200, 10);
    recordResponse(w, 503, 30);
    recordResponse(w, 503, 30);
    recordResponse(w, 502, 40);
    w.errors = 1;
    w.skipped = 2;
    expect(formatSummary(w, 30_000, "http://127.0.0.1:8080/")).toBe(
      "load: http://127.0.0.1:8080/: 300 requests in 30s (10.0/s) · 296 ok · 4 failed (1× 502, 2× 503, 1× no response) · 2 skipped · p50 10 ms, p99 30 ms",
    );
  });

  it("says 0 failed and leaves out latency when nothing came back", () => {
    const w = createWindow(1000);
    expect(formatSummary(w, 31_000, "http://x/")).toBe("load: http://x/: 0 requests in 30s (0.0/s) · 0 ok · 0 failed");
  });
});
