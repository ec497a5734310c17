import { describe, expect, it } from "vitest";
import { compileRetryPolicy, computeRetryBackoff, isRetriableFailure, isRetriableStatus, ISTIO_DEFAULT_RETRY_POLICY } from "./retry-policy.ts";

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

describe("computeRetryBackoff", () => {
  it("is full jitter under a ceiling that doubles from 25 ms and stops at 250 ms", () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 30].map((n) => computeRetryBackoff(n, top))).toEqual([24, 49, 99, 199, 249, 249, 249]);
    expect(computeRetryBackoff(4, () => 0)).toBe(0);
    expect(computeRetryBackoff(2, () => 0.5)).toBe(25);
  });
});
