import { describe, expect, it } from "vitest";
import { compileRetryPolicy, computeRetryBackoff, isRetriableFailure, isRetriableGrpcStatus, isRetriableStatus, ISTIO_DEFAULT_RETRY_POLICY } from "./retry-policy.ts";

describe("compileRetryPolicy", () => {
  it("uses Istio's default (2 retries on connect-failure, refused-stream and 503) when the route has none", () => {
    const policy = compileRetryPolicy(undefined);
    expect(policy).toBe(ISTIO_DEFAULT_RETRY_POLICY);
    expect(policy.retries).toBe(2);
    expect(isRetriableStatus(policy, 503)).toBe(true);
    expect(isRetriableStatus(policy, 500)).toBe(false);
    expect(isRetriableFailure(policy, "connect-failure")).toBe(true);
    expect(isRetriableFailure(policy, "refused-stream")).toBe(true);
    expect(isRetriableFailure(policy, "reset")).toBe(false);
    // gRPC unavailable (14) and cancelled (1), nothing else.
    expect([14, 1, 0, 4, 13, null].map((g) => isRetriableGrpcStatus(policy, g))).toEqual([true, true, false, false, false, false]);
  });

  it("compiles a retries block without retryOn (as the snapshot gives it) to the same decisions as the default", () => {
    const policy = compileRetryPolicy({ attempts: 2, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"], retriableStatusCodes: [503] });
    const { retries, perTryTimeoutMs, ...decisions } = policy;
    const { retries: r, perTryTimeoutMs: p, ...defaults } = ISTIO_DEFAULT_RETRY_POLICY;
    expect([retries, perTryTimeoutMs]).toEqual([r, p]);
    expect(decisions).toEqual(defaults);
  });

  it("reads attempts, a zero per-try timeout as none, and the retryOn list", () => {
    expect(compileRetryPolicy({ attempts: 0, retryOn: ["5xx"] }).retries).toBe(0);
    expect(compileRetryPolicy({ attempts: 3, perTryTimeoutMs: 0, retryOn: [] }).perTryTimeoutMs).toBeUndefined();
    expect(compileRetryPolicy({ attempts: 3, perTryTimeoutMs: 250, retryOn: [] }).perTryTimeoutMs).toBe(250);
  });
});

describe("retry decisions", () => {
  const on = (...retryOn: Parameters<typeof compileRetryPolicy>[0] extends infer R ? (R extends { retryOn: infer L } ? L : never) : never) => compileRetryPolicy({ attempts: 2, retryOn });

  it("5xx retries every 5xx and every failure to get a response", () => {
    const policy = on("5xx");
    expect([500, 502, 503, 504, 599].every((s) => isRetriableStatus(policy, s))).toBe(true);
    expect(isRetriableStatus(policy, 409)).toBe(false);
    expect(isRetriableStatus(policy, 404)).toBe(false);
    expect((["connect-failure", "reset", "refused-stream", "per-try-timeout"] as const).every((f) => isRetriableFailure(policy, f))).toBe(true);
  });

  it("gateway-error retries 502/503/504 only, plus connect failures, resets and per-try timeouts", () => {
    const policy = on("gateway-error");
    expect([502, 503, 504].map((s) => isRetriableStatus(policy, s))).toEqual([true, true, true]);
    expect([500, 501].map((s) => isRetriableStatus(policy, s))).toEqual([false, false]);
    expect(isRetriableFailure(policy, "per-try-timeout")).toBe(true);
    expect(isRetriableFailure(policy, "refused-stream")).toBe(false);
  });

  it("retriable-4xx retries 409 only; connect-failure, reset and refused-stream only their failure", () => {
    expect([409, 400, 429].map((s) => isRetriableStatus(on("retriable-4xx"), s))).toEqual([true, false, false]);
    expect([isRetriableFailure(on("connect-failure"), "connect-failure"), isRetriableFailure(on("connect-failure"), "reset")]).toEqual([true, false]);
    expect([isRetriableFailure(on("reset"), "reset"), isRetriableFailure(on("reset"), "connect-failure"), isRetriableStatus(on("reset"), 503)]).toEqual([true, false, false]);
    expect([isRetriableFailure(on("refused-stream"), "refused-stream"), isRetriableFailure(on("refused-stream"), "reset")]).toEqual([true, false]);
  });
});

describe("status codes, gRPC conditions and reset-before-request", () => {
  const policy = (retryOn: Parameters<typeof compileRetryPolicy>[0] & object) => compileRetryPolicy(retryOn);

  it("retriable-status-codes retries exactly the listed statuses, and nothing without the condition", () => {
    const listed = policy({ attempts: 2, retryOn: ["retriable-status-codes"], retriableStatusCodes: [503, 429] });
    expect([503, 429, 500, 502, 409].map((s) => isRetriableStatus(listed, s))).toEqual([true, true, false, false, false]);
    const off = policy({ attempts: 2, retryOn: ["5xx"], retriableStatusCodes: [429] });
    expect(isRetriableStatus(off, 429)).toBe(false);
  });

  it("maps each gRPC condition to its grpc-status and leaves HTTP statuses alone", () => {
    const each = { cancelled: 1, "deadline-exceeded": 4, "resource-exhausted": 8, internal: 13, unavailable: 14 } as const;
    for (const [condition, grpcStatus] of Object.entries(each)) {
      const p = policy({ attempts: 1, retryOn: [condition as keyof typeof each] });
      expect(isRetriableGrpcStatus(p, grpcStatus)).toBe(true);
      expect([0, 2, 5, 14, 1].filter((g) => g !== grpcStatus).some((g) => isRetriableGrpcStatus(p, g))).toBe(false);
      expect(isRetriableStatus(p, 503)).toBe(false);
    }
    expect(isRetriableGrpcStatus(policy({ attempts: 1, retryOn: ["5xx"] }), 14)).toBe(false);
  });

  it("reset-before-request retries a reset (always before the response head here) but not a per-try timeout", () => {
    const p = policy({ attempts: 1, retryOn: ["reset-before-request"] });
    expect([isRetriableFailure(p, "reset"), isRetriableFailure(p, "per-try-timeout"), isRetriableFailure(p, "connect-failure")]).toEqual([true, false, false]);
  });
});

describe("computeRetryBackoff", () => {
  it("is full jitter under a ceiling that doubles from 25 ms and stops at 250 ms", () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 30].map((n) => computeRetryBackoff(n, top))).toEqual([24, 49, 99, 199, 249, 249, 249]);
    expect(computeRetryBackoff(4, () => 0)).toBe(0);
    expect(computeRetryBackoff(2, () => 0.5)).toBe(25);
  });
});
