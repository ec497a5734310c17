import { describe, expect, it } from "vitest";
import { decideFault } from "./fault.ts";

describe("decideFault", () => {
  it("injects each fault for its percentage of requests", () => {
    const fault = { delay: { fixedDelayMs: 50, percentage: 30 }, abort: { httpStatus: 503, percentage: 10 } };
    const rolls = (...draws: number[]) => () => draws.shift() ?? 1;
    expect(decideFault(fault, rolls(0.29, 0.09))).toEqual({ delayMs: 50, abortStatus: 503 });
    expect(decideFault(fault, rolls(0.29, 0.1))).toEqual({ delayMs: 50, abortStatus: null });
    expect(decideFault(fault, rolls(0.3, 0.09))).toEqual({ delayMs: 0, abortStatus: 503 });
    expect(decideFault(fault, rolls(0.3, 0.1))).toEqual({ delayMs: 0, abortStatus: null });
  });

  it("never injects at 0% and always at 100%", () => {
    expect(decideFault({ abort: { httpStatus: 500, percentage: 0 } }, () => 0)).toEqual({ delayMs: 0, abortStatus: null });
    expect(decideFault({ abort: { httpStatus: 500, percentage: 100 } }, () => 0.999999)).toEqual({ delayMs: 0, abortStatus: 500 });
  });
});
