// Envoy outlier detection for one cluster's endpoints: consecutive 5xx / gateway errors eject an endpoint for
// baseEjectionTime × times ejected (capped), never more than maxEjectionPercent of the cluster at once. State is
// keyed by workload id, so it survives config swaps that keep the endpoint.
import type { TrafficPolicy } from "@trellis/mesh-config";

export type OutlierConfig = NonNullable<TrafficPolicy["outlierDetection"]>;

/** What one finished attempt says about its endpoint. */
export type EndpointResult = "success" | "5xx" | "gateway-error";

export type EndpointHealth = {
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  /** Epoch ms until which the endpoint is ejected; 0 when it is not. */
  ejectedUntil: number;
  timesEjected: number;
};

/** Envoy's max_ejection_time default: an endpoint ejected again and again stays out at most this long each time. */
export const MAX_EJECTION_MS = 300_000;
/** Istio's default consecutive5xxErrors when outlier detection is on but the field is left out. */
export const DEFAULT_CONSECUTIVE_5XX = 5;

export type OutlierDetector = {
  /** Records an attempt's result; returns true when it ejected the endpoint. */
  record: (workloadId: string, result: EndpointResult, config: OutlierConfig, endpointCount: number, now: number) => boolean;
  /** Whether the endpoint is ejected now; an ejection that has run out ends here (lazily) and calls onReturn. */
  isEjected: (workloadId: string, now: number) => boolean;
  /** The interval's work: ends run-out ejections and lets healthy endpoints' ejection multiplier decay (Envoy). */
  sweep: (now: number) => void;
  /** Drops endpoints the cluster no longer has. */
  retain: (workloadIds: ReadonlySet<string>) => void;
  health: (workloadId: string) => EndpointHealth | undefined;
  ejectedCount: () => number;
};

export function createOutlierDetector(onReturn: (workloadId: string) => void): OutlierDetector {
  const endpoints = new Map<string, EndpointHealth>();
  let ejected = 0;

  const end = (workloadId: string, health: EndpointHealth) => {
    health.ejectedUntil = 0;
    health.consecutive5xx = 0;
    health.consecutiveGatewayErrors = 0;
    ejected -= 1;
    onReturn(workloadId);
  };

  return {
    record(workloadId, result, config, endpointCount, now) {
      let health = endpoints.get(workloadId);
      if (result === "success") {
        if (health !== undefined) {
          health.consecutive5xx = 0;
          health.consecutiveGatewayErrors = 0;
        }
        return false;
      }
      if (health === undefined) {
        health = { consecutive5xx: 0, consecutiveGatewayErrors: 0, ejectedUntil: 0, timesEjected: 0 };
        endpoints.set(workloadId, health);
      }
      // A gateway error is a 5xx too (Envoy counts 502/503/504 and local connect failures in both).
      health.consecutive5xx += 1;
      if (result === "gateway-error") health.consecutiveGatewayErrors += 1;
      if (health.ejectedUntil !== 0) return false;
      const limit5xx = config.consecutive5xxErrors ?? DEFAULT_CONSECUTIVE_5XX;
      const limitGateway = config.consecutiveGatewayErrors ?? 0;
      const tripped = (limit5xx > 0 && health.consecutive5xx >= limit5xx) || (limitGateway > 0 && health.consecutiveGatewayErrors >= limitGateway);
      if (!tripped || !mayEject(ejected, endpointCount, config.maxEjectionPercent)) return false;
      health.timesEjected += 1;
      health.ejectedUntil = now + ejectionTime(config.baseEjectionTimeMs, health.timesEjected);
      ejected += 1;
      return true;
    },
    isEjected(workloadId, now) {
      const health = endpoints.get(workloadId);
      if (health === undefined || health.ejectedUntil === 0) return false;
      if (now < health.ejectedUntil) return true;
      end(workloadId, health);
      return false;
    },
    sweep(now) {
      for (const [workloadId, health] of endpoints) {
        if (health.ejectedUntil !== 0) {
          if (now >= health.ejectedUntil) end(workloadId, health);
        } else if (health.timesEjected > 0) {
          health.timesEjected -= 1;
        } else if (health.consecutive5xx === 0) {
          endpoints.delete(workloadId); // nothing left to remember
        }
      }
    },
    retain(workloadIds) {
      for (const [workloadId, health] of endpoints) {
        if (workloadIds.has(workloadId)) continue;
        if (health.ejectedUntil !== 0) ejected -= 1;
        endpoints.delete(workloadId);
      }
    },
    health: (workloadId) => endpoints.get(workloadId),
    ejectedCount: () => ejected,
  };
}

/**
 * Envoy's max_ejection_percent check: ejecting one more must keep the ejected share within the limit, except that
 * one endpoint may always be ejected when none is (Envoy ≥ 1.22), so small clusters still shed a bad endpoint.
 */
export function mayEject(ejectedNow: number, endpointCount: number, maxEjectionPercent: number): boolean {
  if (endpointCount === 0) return false;
  if (ejectedNow === 0) return maxEjectionPercent > 0;
  return ((ejectedNow + 1) * 100) / endpointCount <= maxEjectionPercent;
}

/** How long the n-th ejection lasts: base × n, capped at MAX_EJECTION_MS (or the base, when it is larger). */
export function ejectionTime(baseMs: number, timesEjected: number): number {
  return Math.min(baseMs * timesEjected, Math.max(MAX_EJECTION_MS, baseMs));
}

/** What an attempt's status says about its endpoint: 502/503/504 are gateway errors, other 5xx plain 5xx. */
export function classifyStatus(status: number): EndpointResult {
  if (status === 502 || status === 503 || status === 504) return "gateway-error";
  return status >= 500 ? "5xx" : "success";
}
