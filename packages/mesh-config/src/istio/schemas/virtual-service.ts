// VirtualService (networking.istio.io): Istio's HTTP routing fields in, the domain's HttpRoute out, and back.
import { z } from "zod";
import {
  RETRY_ON_VALUES,
  type Destination,
  type HttpFault,
  type HttpMatch,
  type HttpRetry,
  type HttpRoute,
  type RetryOnValue,
  type StringMatch,
  type VirtualServiceSpec,
} from "../../policy/types.ts";
import { formatDuration } from "../duration.ts";
import { compact, sortRecord } from "../../records.ts";
import { duration, hostName, percentage, stringMatch, toIstioPercentage } from "./common.ts";

const destination = z
  .strictObject({
    host: hostName,
    subset: z.string().min(1).optional(),
    port: z.strictObject({ number: z.int().min(1).max(65535) }).optional(),
  })
  .transform(({ host, subset, port }): Destination => compact({ host, subset, port: port?.number }));

const routeDestination = z.strictObject({ destination, weight: z.int().min(0).max(100).optional() });

/** Conditions Envoy knows but Trellis cannot carry out as Istio YAML states them, each with the reason and the fix. */
const REFUSED_RETRY_ON: Record<string, string> = {
  "retriable-headers": "needs a list of retriable response headers, which a VirtualService cannot give; use retriable-status-codes or a status code such as 503",
  "envoy-ratelimited": "retries responses carrying x-envoy-ratelimited, which only Envoy's rate-limit filter sets and Trellis has none; remove it",
};

const ACCEPTED_RETRY_ON = `${RETRY_ON_VALUES.join(", ")}, or an HTTP status code such as 503`;

/** Istio's split of `retryOn`: integers that are HTTP status codes become retriable status codes. */
type ParsedRetryOn = { retryOn: RetryOnValue[]; retriableStatusCodes: number[] };

const retryOn = z.string().transform((text, ctx): ParsedRetryOn => {
  const parts = text.split(",").map((part) => part.trim());
  const conditions = new Set<RetryOnValue>();
  const codes = new Set<number>();
  const unknown: string[] = [];
  for (const part of parts) {
    const refusal = REFUSED_RETRY_ON[part];
    if (refusal !== undefined) ctx.addIssue({ code: "custom", message: `"${part}" ${refusal}` });
    else if (/^\d+$/.test(part)) {
      const code = Number(part);
      if (code >= 100 && code <= 599) codes.add(code);
      else ctx.addIssue({ code: "custom", message: `${part} is not an HTTP status code; a status code in retryOn must be 100–599, e.g. 503` });
    } else if ((RETRY_ON_VALUES as readonly string[]).includes(part)) conditions.add(part as RetryOnValue);
    else unknown.push(part);
  }
  if (unknown.length > 0) {
    const shown = unknown.map((part) => JSON.stringify(part)).join(", ");
    ctx.addIssue({ code: "custom", message: `${shown} ${unknown.length === 1 ? "is not a retry condition" : "are not retry conditions"} Trellis supports; use a comma-separated list of ${ACCEPTED_RETRY_ON}` });
  }
  return { retryOn: [...conditions], retriableStatusCodes: [...codes] };
});

const retries = z
  .strictObject({ attempts: z.int().min(0), perTryTimeout: duration.optional(), retryOn: retryOn.optional() })
  .transform(
    ({ attempts, perTryTimeout, retryOn }): HttpRetry =>
      compact({
        attempts,
        perTryTimeoutMs: perTryTimeout,
        retryOn: retryOn?.retryOn,
        retriableStatusCodes: retryOn === undefined || retryOn.retriableStatusCodes.length === 0 ? undefined : retryOn.retriableStatusCodes,
      }),
  );

const fault = z
  .strictObject({
    delay: z.strictObject({ fixedDelay: duration, percentage: percentage.optional() }).optional(),
    abort: z.strictObject({ httpStatus: z.int().min(200).max(599), percentage: percentage.optional() }).optional(),
  })
  .refine((f) => f.delay !== undefined || f.abort !== undefined, "set delay, abort or both")
  .transform(
    ({ delay, abort }): HttpFault =>
      compact({
        delay: delay && { fixedDelayMs: delay.fixedDelay, percentage: delay.percentage ?? 100 },
        abort: abort && { httpStatus: abort.httpStatus, percentage: abort.percentage ?? 100 },
      }),
  );

const match = z
  .strictObject({ uri: stringMatch.optional(), method: stringMatch.optional(), headers: z.record(z.string(), stringMatch).optional() })
  .transform(({ uri, method, headers }): HttpMatch => compact({ uri, method, headers: headers && sortRecord(headers) }));

const httpRoute = z
  .strictObject({
    name: z.string().min(1).optional(),
    match: z.array(match).optional(),
    route: z.array(routeDestination).min(1),
    timeout: duration.optional(),
    retries: retries.optional(),
    fault: fault.optional(),
    mirror: destination.optional(),
    mirrorPercentage: percentage.optional(),
  })
  .refine((r) => r.mirrorPercentage === undefined || r.mirror !== undefined, { message: "mirrorPercentage needs mirror", path: ["mirrorPercentage"] })
  .transform(
    (r): HttpRoute =>
      compact({
        name: r.name,
        match: r.match ?? [],
        // Istio: a lone destination takes all traffic; among several, an unweighted one gets none.
        route: r.route.map(({ destination: d, weight }) => ({ destination: d, weight: weight ?? (r.route.length === 1 ? 100 : 0) })),
        timeoutMs: r.timeout,
        retries: r.retries,
        fault: r.fault,
        mirror: r.mirror && { destination: r.mirror, percentage: r.mirrorPercentage ?? 100 },
      }),
  );

export const virtualServiceSpec = z
  .strictObject({ hosts: z.array(hostName).min(1), http: z.array(httpRoute).min(1) })
  .transform(({ hosts, http }): VirtualServiceSpec => ({ hosts, http }));

/** Istio YAML for the spec, keys in Istio's documentation order. */
export function toIstioVirtualServiceSpec(spec: VirtualServiceSpec): Record<string, unknown> {
  return { hosts: spec.hosts, http: spec.http.map(toIstioHttpRoute) };
}

function toIstioHttpRoute(route: HttpRoute): Record<string, unknown> {
  const lone = route.route.length === 1 && route.route[0]?.weight === 100;
  return compact({
    name: route.name,
    match: route.match.length === 0 ? undefined : route.match.map(toIstioMatch),
    route: route.route.map(({ destination: d, weight }) => compact({ destination: toIstioDestination(d), weight: lone ? undefined : weight })),
    timeout: route.timeoutMs === undefined ? undefined : formatDuration(route.timeoutMs),
    retries: route.retries && toIstioRetries(route.retries),
    fault: route.fault && toIstioFault(route.fault),
    mirror: route.mirror && toIstioDestination(route.mirror.destination),
    mirrorPercentage: route.mirror && route.mirror.percentage !== 100 ? toIstioPercentage(route.mirror.percentage) : undefined,
  });
}

function toIstioMatch(m: HttpMatch): Record<string, unknown> {
  return compact({ uri: m.uri && toIstioStringMatch(m.uri), method: m.method && toIstioStringMatch(m.method), headers: m.headers });
}

function toIstioStringMatch(m: StringMatch): StringMatch {
  return { ...m };
}

function toIstioDestination(d: Destination): Record<string, unknown> {
  return compact({ host: d.host, subset: d.subset, port: d.port === undefined ? undefined : { number: d.port } });
}

function toIstioRetries(r: HttpRetry): Record<string, unknown> {
  return compact({
    attempts: r.attempts,
    perTryTimeout: r.perTryTimeoutMs === undefined ? undefined : formatDuration(r.perTryTimeoutMs),
    retryOn: r.retryOn === undefined && r.retriableStatusCodes === undefined ? undefined : [...(r.retryOn ?? []), ...(r.retriableStatusCodes ?? [])].join(","),
  });
}

function toIstioFault(f: HttpFault): Record<string, unknown> {
  return compact({
    delay: f.delay && { fixedDelay: formatDuration(f.delay.fixedDelayMs), percentage: toIstioPercentage(f.delay.percentage) },
    abort: f.abort && { httpStatus: f.abort.httpStatus, percentage: toIstioPercentage(f.abort.percentage) },
  });
}
