// What a route's retries mean for one attempt's outcome: the compiled policy (Istio's default when the
// VirtualService gives none), whether an outcome may be retried, and the jittered backoff between attempts.
import type { RouteAction } from "@trellis/mesh-config";

/** How one upstream attempt ended, as far as retrying is concerned. */
export type AttemptFailure =
  /** The connection could not be made (UF). */
  | "connect-failure"
  /** The connection dropped, or closed, before a response started (UC). */
  | "reset"
  /** HTTP/2 REFUSED_STREAM: the peer did not process the request at all. Never happens on HTTP/1. */
  | "refused-stream"
  /** The route's per-try timeout passed before the response started (UT). */
  | "per-try-timeout";

export type RetryPolicy = {
  /** Retries after the first attempt (Istio `attempts`); 0 turns retrying off. */
  retries: number;
  perTryTimeoutMs: number | undefined;
  on5xx: boolean;
  onGatewayError: boolean;
  onConnectFailure: boolean;
  onRetriable4xx: boolean;
  onReset: boolean;
  /** Envoy ≥1.29 `reset-before-request`: a reset before any response byte, as `reset` but not a per-try timeout. */
  onResetBeforeRequest: boolean;
  onRefusedStream: boolean;
  /** `retriable-status-codes`: the statuses it retries (empty when the condition is off). A few at most. */
  retriableStatusCodes: readonly number[];
  /** The gRPC conditions as a bit per grpc-status (1 << status); 0 when none is on. */
  grpcStatusMask: number;
};

/** Envoy's x-envoy-retry-grpc-on conditions and the grpc-status each retries. */
const GRPC_CONDITIONS: Readonly<Record<string, number>> = { cancelled: 1, "deadline-exceeded": 4, "resource-exhausted": 8, internal: 13, unavailable: 14 };

/**
 * Istio's retry policy when a VirtualService route gives none (pilot `retry.DefaultPolicy()`): 2 attempts on
 * `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes` with retriable status 503 — the
 * same as a `retries` block without `retryOn` compiles to (snapshot routes.ts). The gRPC conditions apply to gRPC
 * responses only. Envoy's previous-hosts predicate comes with it (the attempt loop prefers an endpoint it has not
 * tried yet).
 */
export const ISTIO_DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 2,
  perTryTimeoutMs: undefined,
  on5xx: false,
  onGatewayError: false,
  onConnectFailure: true,
  onRetriable4xx: false,
  onReset: false,
  onResetBeforeRequest: false,
  onRefusedStream: true,
  retriableStatusCodes: [503],
  grpcStatusMask: (1 << 14) | (1 << 1),
};

/** Compiled once per snapshot (routing-table.ts), so a request never reads the raw retryOn list. */
export function compileRetryPolicy(retries: RouteAction["retries"]): RetryPolicy {
  if (retries === undefined) return ISTIO_DEFAULT_RETRY_POLICY;
  const on = new Set<string>(retries.retryOn);
  let grpcStatusMask = 0;
  for (const [condition, grpcStatus] of Object.entries(GRPC_CONDITIONS)) if (on.has(condition)) grpcStatusMask |= 1 << grpcStatus;
  return {
    retries: retries.attempts,
    // Like the route timeout, a zero per-try timeout means "none".
    perTryTimeoutMs: retries.perTryTimeoutMs === 0 ? undefined : retries.perTryTimeoutMs,
    on5xx: on.has("5xx"),
    onGatewayError: on.has("gateway-error"),
    onConnectFailure: on.has("connect-failure"),
    onRetriable4xx: on.has("retriable-4xx"),
    onReset: on.has("reset"),
    onResetBeforeRequest: on.has("reset-before-request"),
    onRefusedStream: on.has("refused-stream"),
    retriableStatusCodes: on.has("retriable-status-codes") ? [...new Set(retries.retriableStatusCodes ?? [])] : [],
    grpcStatusMask,
  };
}

/** Whether an upstream response status is one the policy retries (Envoy's retry_on semantics). */
export function isRetriableStatus(policy: RetryPolicy, status: number): boolean {
  if (status >= 500) {
    if (policy.on5xx) return true;
    if (policy.onGatewayError && (status === 502 || status === 503 || status === 504)) return true;
  } else if (policy.onRetriable4xx && status === 409) return true;
  const codes = policy.retriableStatusCodes;
  for (let i = 0; i < codes.length; i += 1) if (codes[i] === status) return true;
  return false;
}

/**
 * Whether a gRPC response's grpc-status (from its headers: a trailers-only response) is one of the policy's gRPC
 * conditions. Callers ask only for gRPC responses (content-type application/grpc); null (no grpc-status in the
 * headers, so the status comes in trailers after the body) is never retried, as in Envoy.
 */
export function isRetriableGrpcStatus(policy: RetryPolicy, grpcStatus: number | null): boolean {
  if (grpcStatus === null || policy.grpcStatusMask === 0 || grpcStatus < 0 || grpcStatus > 16) return false;
  return (policy.grpcStatusMask & (1 << grpcStatus)) !== 0;
}

/**
 * Whether a failed attempt (no response) is one the policy retries. A per-try timeout counts as a 504 from the
 * upstream, as in Envoy, so `5xx` and `gateway-error` retry it; so does `reset`, since the timed-out stream is reset.
 * Envoy's `5xx` also covers connect failures and resets (it treats "no response" as a 5xx).
 */
export function isRetriableFailure(policy: RetryPolicy, failure: AttemptFailure): boolean {
  switch (failure) {
    case "connect-failure":
      return policy.onConnectFailure || policy.on5xx || policy.onGatewayError;
    case "reset":
      // Every reset an attempt reports came before the response head (after it, the response is delivered).
      return policy.onReset || policy.onResetBeforeRequest || policy.on5xx || policy.onGatewayError;
    case "refused-stream":
      return policy.onRefusedStream || policy.on5xx;
    case "per-try-timeout":
      return policy.on5xx || policy.onGatewayError || policy.onReset;
  }
}

/** Envoy's retry backoff: base 25 ms, capped at 10 × base. */
export const RETRY_BACKOFF = { baseMs: 25, maxMs: 250 };

/**
 * Delay before retry number `retry` (1 for the first retry): "full jitter", uniform in [0, ceiling) with the
 * ceiling doubling per retry from the base up to the max, so retries of many callers spread out instead of
 * arriving in waves. `random` returns [0, 1), like Math.random.
 */
export function computeRetryBackoff(retry: number, random: () => number = Math.random, { baseMs, maxMs } = RETRY_BACKOFF): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(retry - 1, 0), 20));
  return Math.floor(random() * ceiling);
}
