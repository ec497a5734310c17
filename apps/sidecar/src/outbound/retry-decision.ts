// After each failed-looking attempt, HTTP/1 (exchange.ts) and HTTP/2 (proxy/h2-exchange.ts) ask the same question:
// try again or give the caller this answer? One place for the order of the checks and for the events and flags
// Envoy records with each outcome.
import type { ResponseFlag } from "../response-flags.ts";
import type { ClusterState } from "./cluster-state.ts";
import { checkRetryBudget, type RetryBudgetConfig } from "./retry-budget.ts";
import type { AttemptFailure } from "./retry-policy.ts";

/** The flag an attempt that got no response earns. */
export const FLAG_FOR_FAILURE: Record<AttemptFailure, "UF" | "UC" | "UT"> = { "connect-failure": "UF", reset: "UC", "refused-stream": "UC", "per-try-timeout": "UT" };

export type RetryQuestion = {
  /** Whether the route's retry policy retries this attempt's outcome. */
  retriable: boolean;
  /** 0 for the first attempt. */
  attempt: number;
  /** The policy's retries (attempts after the first). */
  retries: number;
  /** The request body can be sent again (within the replay buffer). */
  replayable: boolean;
  /** The attempt's failure, when it got no response. */
  failure: AttemptFailure | null;
  state: ClusterState;
  maxRetries: number | undefined;
  budget: RetryBudgetConfig;
  /** The request's flags; URX (after the attempt's own flag) is added when retries run out or are refused. */
  flags: ResponseFlag[];
};

/** True when the attempt is to be retried; otherwise records why not (retry_success, limit, budget). */
export function decideRetry(q: RetryQuestion): boolean {
  if (!q.retriable) {
    if (q.attempt > 0) q.state.event("retry_success");
    return false;
  }
  if (q.attempt >= q.retries) {
    if (q.retries > 0) {
      q.state.event("retry_limit_exceeded");
      giveUp(q);
    }
    return false;
  }
  if (!q.replayable) return false; // over the buffer limit: Envoy does not retry it, and flags nothing more
  if (checkRetryBudget(q.state.active, q.state.retriesActive, q.maxRetries, q.budget) !== null) {
    q.state.event("retry_overflow");
    giveUp(q);
    return false;
  }
  return true;
}

function giveUp(q: RetryQuestion): void {
  if (q.failure !== null) q.flags.push(FLAG_FOR_FAILURE[q.failure]);
  q.flags.push("URX");
}
