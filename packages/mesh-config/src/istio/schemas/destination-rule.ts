// DestinationRule (networking.istio.io): subsets by labels and the traffic policy (load balancing, connection
// pool, outlier detection), per rule and per subset; durations become milliseconds.
import { z } from "zod";
import type { ConnectionPool, DestinationRuleSpec, OutlierDetection, Subset, TrafficPolicy } from "../../policy/types.ts";
import { formatDuration } from "../duration.ts";
import { compact, sortRecord } from "../../records.ts";
import { duration, hostName, resourceName, stringMap } from "./common.ts";

const connectionPool = z
  .strictObject({
    tcp: z.strictObject({ maxConnections: z.int().min(1).optional(), connectTimeout: duration.optional() }).optional(),
    http: z
      .strictObject({
        http1MaxPendingRequests: z.int().min(1).optional(),
        http2MaxRequests: z.int().min(1).optional(),
        maxRequestsPerConnection: z.int().min(0).optional(),
        maxRetries: z.int().min(0).optional(),
        idleTimeout: duration.optional(),
        h2UpgradePolicy: z.enum(["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"]).optional(),
      })
      .optional(),
  })
  .transform(
    ({ tcp, http }): ConnectionPool =>
      compact({
        tcp: tcp && compact({ maxConnections: tcp.maxConnections, connectTimeoutMs: tcp.connectTimeout }),
        http:
          http &&
          compact({
            http1MaxPendingRequests: http.http1MaxPendingRequests,
            http2MaxRequests: http.http2MaxRequests,
            maxRequestsPerConnection: http.maxRequestsPerConnection,
            maxRetries: http.maxRetries,
            idleTimeoutMs: http.idleTimeout,
            h2UpgradePolicy: http.h2UpgradePolicy,
          }),
      }),
  );

const outlierDetection = z
  .strictObject({
    consecutive5xxErrors: z.int().min(0).optional(),
    consecutiveGatewayErrors: z.int().min(0).optional(),
    interval: duration.optional(),
    baseEjectionTime: duration.optional(),
    maxEjectionPercent: z.int().min(0).max(100).optional(),
  })
  .transform(
    (o): OutlierDetection =>
      compact({
        consecutive5xxErrors: o.consecutive5xxErrors,
        consecutiveGatewayErrors: o.consecutiveGatewayErrors,
        intervalMs: o.interval,
        baseEjectionTimeMs: o.baseEjectionTime,
        maxEjectionPercent: o.maxEjectionPercent,
      }),
  );

const trafficPolicy = z
  .strictObject({
    loadBalancer: z.strictObject({ simple: z.enum(["ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN", "RANDOM"]) }).optional(),
    connectionPool: connectionPool.optional(),
    outlierDetection: outlierDetection.optional(),
  })
  .transform((p): TrafficPolicy => compact(p));

const subset = z
  .strictObject({ name: resourceName, labels: stringMap, trafficPolicy: trafficPolicy.optional() })
  .refine((s) => Object.keys(s.labels).length > 0, { message: "a subset needs labels to select its endpoints, e.g. version: v2", path: ["labels"] })
  .transform((s): Subset => compact({ name: s.name, labels: sortRecord(s.labels), trafficPolicy: s.trafficPolicy }));

export const destinationRuleSpec = z
  .strictObject({ host: hostName, trafficPolicy: trafficPolicy.optional(), subsets: z.array(subset).optional() })
  .transform((s): DestinationRuleSpec => compact({ host: s.host, trafficPolicy: s.trafficPolicy, subsets: s.subsets ?? [] }));

export function toIstioDestinationRuleSpec(spec: DestinationRuleSpec): Record<string, unknown> {
  return compact({
    host: spec.host,
    trafficPolicy: spec.trafficPolicy && toIstioTrafficPolicy(spec.trafficPolicy),
    subsets:
      spec.subsets.length === 0
        ? undefined
        : spec.subsets.map((s) => compact({ name: s.name, labels: s.labels, trafficPolicy: s.trafficPolicy && toIstioTrafficPolicy(s.trafficPolicy) })),
  });
}

function toIstioTrafficPolicy(p: TrafficPolicy): Record<string, unknown> {
  const { tcp, http } = p.connectionPool ?? {};
  const o = p.outlierDetection;
  return compact({
    loadBalancer: p.loadBalancer,
    connectionPool: p.connectionPool && {
      ...(tcp && { tcp: compact({ maxConnections: tcp.maxConnections, connectTimeout: optionalDuration(tcp.connectTimeoutMs) }) }),
      ...(http && {
        http: compact({
          http1MaxPendingRequests: http.http1MaxPendingRequests,
          http2MaxRequests: http.http2MaxRequests,
          maxRequestsPerConnection: http.maxRequestsPerConnection,
          maxRetries: http.maxRetries,
          idleTimeout: optionalDuration(http.idleTimeoutMs),
          h2UpgradePolicy: http.h2UpgradePolicy,
        }),
      }),
    },
    outlierDetection: o && {
      ...compact({
        consecutive5xxErrors: o.consecutive5xxErrors,
        consecutiveGatewayErrors: o.consecutiveGatewayErrors,
        interval: optionalDuration(o.intervalMs),
        baseEjectionTime: optionalDuration(o.baseEjectionTimeMs),
        maxEjectionPercent: o.maxEjectionPercent,
      }),
    },
  });
}

function optionalDuration(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : formatDuration(ms);
}
