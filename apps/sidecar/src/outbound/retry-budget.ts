// Envoy's retry budget and max-retries breaker for one cluster: retries in flight may never exceed a share of the
// requests in flight (so retries cannot turn a partial outage into a full one), and never the hard cap.

export type RetryBudgetConfig = {
  /** Envoy retry_budget.budget_percent: retries in flight ≤ this share of active requests (default 20). */
  budgetPercent: number;
  /** Envoy retry_budget.min_retry_concurrency: retries always allowed in flight however few requests are active. */
  minRetryConcurrency: number;
};

export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = { budgetPercent: 20, minRetryConcurrency: 3 };

/** Why a retry was refused, or null when it may go ahead. */
export type RetryRefusal = "budget" | "max_retries" | null;

/**
 * Decides one retry. `activeRequests` are the cluster's requests in flight (each counted once however many attempts
 * it makes), `retriesActive` the retries currently in flight or backing off, `maxRetries` the DestinationRule's
 * connectionPool.http.maxRetries (undefined = no cap).
 */
export function checkRetryBudget(activeRequests: number, retriesActive: number, maxRetries: number | undefined, config: RetryBudgetConfig): RetryRefusal {
  if (maxRetries !== undefined && retriesActive >= maxRetries) return "max_retries";
  return retriesActive >= retryBudgetLimit(activeRequests, config) ? "budget" : null;
}

/** How many retries may be in flight with `activeRequests` active: max(budget% of them, min concurrency). */
export function retryBudgetLimit(activeRequests: number, { budgetPercent, minRetryConcurrency }: RetryBudgetConfig): number {
  return Math.max(Math.floor((activeRequests * budgetPercent) / 100), minRetryConcurrency);
}
