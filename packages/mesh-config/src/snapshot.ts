// The per-sidecar config snapshot: what one sidecar needs to route its outbound traffic. Built by the control
// plane from the registry, checked for consistency before it gets a version (go-control-plane's Consistent()).
import { z } from "zod";
import { RETRY_ON_VALUES } from "./policy/types.ts";

export const endpointSchema = z.object({
  /** host:port of the destination sidecar's inbound listener. */
  address: z.string().regex(/^[^\s:]+:\d{1,5}$/, "endpoint address must be host:port, e.g. 127.0.0.1:15001"),
  workloadId: z.string().min(1),
  version: z.string(),
  labels: z.record(z.string(), z.string()),
});

const durationMs = z.number().int().nonnegative();
const percentage = z.number().min(0).max(100);

export const stringMatchSchema = z.union([
  z.object({ exact: z.string() }).strict(),
  z.object({ prefix: z.string() }).strict(),
  z.object({ regex: z.string() }).strict(),
]);

/** One Istio HTTPMatchRequest: every field given must match; an empty object matches everything. */
export const routeMatchSchema = z.object({
  uri: stringMatchSchema.optional(),
  method: stringMatchSchema.optional(),
  headers: z.record(z.string(), stringMatchSchema).optional(),
});

/** The retry conditions of the policy model (Istio's `retryOn`), carried as is. */
export const retryOnSchema = z.enum(RETRY_ON_VALUES);

export const routeActionSchema = z.object({
  /** Istio route name, when given (for telemetry and /config_dump). */
  name: z.string().optional(),
  /** Any of these matches selects the route; an empty list matches every request. Routes are tried in order. */
  match: z.array(routeMatchSchema),
  /** Weighted backends; weights are integers summing to 100 (a single backend has weight 100). */
  destinations: z.array(z.object({ cluster: z.string().min(1), weight: z.number().int().min(0).max(100) })).min(1),
  timeoutMs: durationMs.optional(),
  retries: z
    .object({
      attempts: z.number().int().nonnegative(),
      perTryTimeoutMs: durationMs.optional(),
      /** gRPC conditions (cancelled, unavailable, …) apply to gRPC responses only, by their grpc-status. */
      retryOn: z.array(retryOnSchema),
      /** With `retriable-status-codes`: the statuses it retries; left out when there are none (compact JSON). */
      retriableStatusCodes: z.array(z.number().int().min(100).max(599)).optional(),
    })
    .optional(),
  fault: z
    .object({
      delay: z.object({ fixedDelayMs: durationMs, percentage }).optional(),
      abort: z.object({ httpStatus: z.number().int().min(200).max(599), percentage }).optional(),
    })
    .optional(),
  mirror: z.object({ cluster: z.string().min(1), percentage }).optional(),
});

/** Everything an outbound listener needs: the routes of one upstream service, tried in order (Envoy: a virtual host). */
export const virtualHostSchema = z.object({
  /** The logical service the app calls (one outbound listener per upstream). */
  upstream: z.string().min(1),
  routes: z.array(routeActionSchema),
});

export const trafficPolicySchema = z.object({
  loadBalancer: z.enum(["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM"]).default("ROUND_ROBIN"),
  connectionPool: z
    .object({
      maxConnections: z.number().int().positive().optional(),
      connectTimeoutMs: durationMs.optional(),
      maxPendingRequests: z.number().int().positive().optional(),
      maxRequests: z.number().int().positive().optional(),
      maxRequestsPerConnection: z.number().int().positive().optional(),
      maxRetries: z.number().int().nonnegative().optional(),
      idleTimeoutMs: durationMs.optional(),
    })
    .optional(),
  outlierDetection: z
    .object({
      consecutive5xxErrors: z.number().int().nonnegative().optional(),
      consecutiveGatewayErrors: z.number().int().nonnegative().optional(),
      intervalMs: durationMs,
      baseEjectionTimeMs: durationMs,
      maxEjectionPercent: percentage,
    })
    .optional(),
});

/**
 * A set of endpoints with one traffic policy. Named Envoy-style: `<service>` for the whole service, or
 * `<service>|<subset>` for a DestinationRule subset (endpoints whose labels include the subset's labels).
 */
export const clusterSchema = z.object({
  service: z.string().min(1),
  subset: z.string().nullable(),
  endpoints: z.array(endpointSchema),
  trafficPolicy: trafficPolicySchema,
});

export const mtlsModeSchema = z.enum(["STRICT", "PERMISSIVE", "DISABLE"]);

export const authorizationRuleSchema = z.object({
  from: z.array(z.object({ principals: z.array(z.string()).optional(), namespaces: z.array(z.string()).optional(), notPrincipals: z.array(z.string()).optional(), notNamespaces: z.array(z.string()).optional() })),
  to: z.array(z.object({ paths: z.array(z.string()).optional(), methods: z.array(z.string()).optional(), notPaths: z.array(z.string()).optional(), notMethods: z.array(z.string()).optional() })),
});

/** What the sidecar enforces on inbound traffic: the PeerAuthentication mode and AuthorizationPolicies selecting it. */
export const inboundPolicySchema = z.object({
  mtlsMode: mtlsModeSchema,
  authorization: z.array(z.object({ name: z.string(), action: z.enum(["ALLOW", "DENY"]), rules: z.array(authorizationRuleSchema) })),
});

export const snapshotSchema = z.object({
  service: z.string().min(1),
  namespace: z.string().min(1),
  clusters: z.record(z.string(), clusterSchema),
  virtualHosts: z.array(virtualHostSchema),
  inbound: inboundPolicySchema,
  /** Per cluster: whether to originate mTLS to it (the destination's PeerAuthentication allows or requires it). */
  outboundMtls: z.record(z.string(), z.boolean()),
});

export type StringMatch = z.infer<typeof stringMatchSchema>;
export type RouteMatch = z.infer<typeof routeMatchSchema>;
export type RetryOn = z.infer<typeof retryOnSchema>;
export type RouteAction = z.infer<typeof routeActionSchema>;
export type VirtualHost = z.infer<typeof virtualHostSchema>;
export type TrafficPolicy = z.infer<typeof trafficPolicySchema>;
export type MtlsMode = z.infer<typeof mtlsModeSchema>;
export type InboundPolicy = z.infer<typeof inboundPolicySchema>;
export type Endpoint = z.infer<typeof endpointSchema>;
export type Cluster = z.infer<typeof clusterSchema>;
export type Snapshot = z.infer<typeof snapshotSchema>;

export type WorkloadMode = "sidecar" | "gateway";

/** What the snapshot builder needs to know about one registered workload. */
export type RegisteredWorkload = {
  id: string;
  service: string;
  namespace: string;
  version: string;
  mode: WorkloadMode;
  labels: Record<string, string>;
  address: string;
  upstreams: string[];
};

/** JSON with object keys sorted at every level, so that equal values always serialize (and hash) the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isPlainObject(v) ? sortRecord(v) : v));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sortRecord<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as T;
  return sorted;
}
