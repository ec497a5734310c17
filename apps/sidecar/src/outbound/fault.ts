// Istio fault injection for a route: hold the request for a fixed delay and/or answer it with an error status,
// each for a percentage of requests. As in Envoy's fault filter, the delay comes first and the abort after it.
import type { Http1Response } from "../http1/types.ts";
import type { RouteAction } from "@trellis/mesh-config";

export type Fault = NonNullable<RouteAction["fault"]>;

/** What to do to one request: no-op is `{ delayMs: 0, abortStatus: null }`. */
export type FaultDecision = { delayMs: number; abortStatus: number | null };

const NONE: FaultDecision = { delayMs: 0, abortStatus: null };

/** Rolls the dice for one request; `random` returns [0, 1), like Math.random. */
export function decideFault(fault: Fault, random: () => number = Math.random): FaultDecision {
  const delayMs = fault.delay !== undefined && random() * 100 < fault.delay.percentage ? fault.delay.fixedDelayMs : 0;
  const abortStatus = fault.abort !== undefined && random() * 100 < fault.abort.percentage ? fault.abort.httpStatus : null;
  return delayMs === 0 && abortStatus === null ? NONE : { delayMs, abortStatus };
}

/** Waits `ms`, resolving true, or false as soon as the caller goes away in the meantime. */
export function holdRequest(res: Http1Response, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(true);
    }, ms);
    res.once("close", onClose);
  });
}
