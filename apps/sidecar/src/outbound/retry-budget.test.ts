import { describe, expect, it } from "vitest";
import { checkRetryBudget, DEFAULT_RETRY_BUDGET, retryBudgetLimit } from "./retry-budget.ts";

describe("retry budget", () => {
  it("allows max(20% of active requests, 3) retries in flight", () => {
    expect([0, 1, 10, 15, 19, 20, 100, 1000].map((active) => retryBudgetLimit(active, DEFAULT_RETRY_BUDGET))).toEqual([3, 3, 3, 3, 3, 4, 20, 200]);
    expect(checkRetryBudget(100, 19, undefined, DEFAULT_RETRY_BUDGET)).toBeNull();
    expect(checkRetryBudget(100, 20, undefined, DEFAULT_RETRY_BUDGET)).toBe("budget");
    expect(checkRetryBudget(2, 2, undefined, DEFAULT_RETRY_BUDGET)).toBeNull();
    expect(checkRetryBudget(2, 3, undefined, DEFAULT_RETRY_BUDGET)).toBe("budget");
  });

  it("takes a configured percentage", () => {
    expect(retryBudgetLimit(100, { budgetPercent: 50, minRetryConcurrency: 3 })).toBe(50);
    expect(checkRetryBudget(100, 30, undefined, { budgetPercent: 50, minRetryConcurrency: 3 })).toBeNull();
  });

  it("caps retries in flight at maxRetries before the budget, 0 refusing every retry", () => {
    expect(checkRetryBudget(1000, 5, 5, DEFAULT_RETRY_BUDGET)).toBe("max_retries");
    expect(checkRetryBudget(1000, 4, 5, DEFAULT_RETRY_BUDGET)).toBeNull();
    expect(checkRetryBudget(10, 0, 0, DEFAULT_RETRY_BUDGET)).toBe("max_retries");
  });
});
