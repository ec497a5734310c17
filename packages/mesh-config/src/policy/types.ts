// The policy domain: Istio's four kinds after parsing, with durations in integer milliseconds, weights and
// defaults filled in as Istio does. The control plane, the CLI and the snapshot builder only see these types.

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export type HttpMatch = {
  uri?: StringMatch;
  method?: StringMatch;
  headers?: Record<string, StringMatch>;
};

/** A service host as written (`order-service`, `order-service.shop`, `order-service.shop.svc.cluster.local`). */
export type Destination = { host: string; subset?: string; port?: number };

/** Weight is always set: Istio gives a lone destination 100 and an unweighted one of several 0. */
export type WeightedDestination = { destination: Destination; weight: number };

/**
 * The retryOn conditions Trellis carries out (Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on values that Istio
 * passes through). The last five are gRPC conditions: the grpc-status of a gRPC response's headers.
 */
export const RETRY_ON_VALUES = [
  "5xx",
  "gateway-error",
  "connect-failure",
  "retriable-4xx",
  "reset",
  "reset-before-request",
  "refused-stream",
  "retriable-status-codes",
  "cancelled",
  "deadline-exceeded",
  "internal",
  "resource-exhausted",
  "unavailable",
] as const;
export type RetryOnValue = (typeof RETRY_ON_VALUES)[number];

/**
 * `retryOn` as written, split the way Istio splits it: conditions, and bare HTTP status codes (`503`), which Istio
 * turns into retriable status codes. Export writes the conditions, then the codes, as one comma list.
 */
export type HttpRetry = { attempts: number; perTryTimeoutMs?: number; retryOn?: RetryOnValue[]; retriableStatusCodes?: number[] };

/** Percentages are 0–100 (Istio's `percentage.value`); Istio applies a fault or mirror to 100% when unset. */
export type HttpFault = {
  delay?: { fixedDelayMs: number; percentage: number };
  abort?: { httpStatus: number; percentage: number };
};

export type HttpRoute = {
  name?: string;
  /** Empty: matches every request. */
  match: HttpMatch[];
  route: WeightedDestination[];
  timeoutMs?: number;
  retries?: HttpRetry;
  fault?: HttpFault;
  mirror?: { destination: Destination; percentage: number };
};

export type VirtualServiceSpec = { hosts: string[]; http: HttpRoute[] };

export type LoadBalancer = "ROUND_ROBIN" | "LEAST_REQUEST" | "LEAST_CONN" | "RANDOM";

export type ConnectionPool = {
  tcp?: { maxConnections?: number; connectTimeoutMs?: number };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeoutMs?: number;
    h2UpgradePolicy?: "DEFAULT" | "DO_NOT_UPGRADE" | "UPGRADE";
  };
};

export type OutlierDetection = {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  maxEjectionPercent?: number;
};

export type TrafficPolicy = {
  loadBalancer?: { simple: LoadBalancer };
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
};

export type Subset = { name: string; labels: Record<string, string>; trafficPolicy?: TrafficPolicy };

export type DestinationRuleSpec = { host: string; trafficPolicy?: TrafficPolicy; subsets: Subset[] };

export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";

export type WorkloadSelector = { matchLabels: Record<string, string> };

/** `mtlsMode` unset (Istio's UNSET or no `mtls`) inherits from the enclosing scope. */
export type PeerAuthenticationSpec = { selector?: WorkloadSelector; mtlsMode?: MtlsMode };

export type AuthorizationSource = { principals?: string[]; notPrincipals?: string[]; namespaces?: string[]; notNamespaces?: string[] };
export type AuthorizationOperation = { paths?: string[]; notPaths?: string[]; methods?: string[]; notMethods?: string[] };
/** Istio's `from[].source` and `to[].operation`, unwrapped. */
export type AuthorizationRule = { from: AuthorizationSource[]; to: AuthorizationOperation[] };

export type AuthorizationPolicySpec = { selector?: WorkloadSelector; action: "ALLOW" | "DENY"; rules: AuthorizationRule[] };

type PolicyOf<K extends string, S> = {
  kind: K;
  /** As written, e.g. networking.istio.io/v1beta1; export writes it back. */
  apiVersion: string;
  name: string;
  /** Istio's default when metadata.namespace is missing. */
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec: S;
};

export type VirtualService = PolicyOf<"VirtualService", VirtualServiceSpec>;
export type DestinationRule = PolicyOf<"DestinationRule", DestinationRuleSpec>;
export type PeerAuthentication = PolicyOf<"PeerAuthentication", PeerAuthenticationSpec>;
export type AuthorizationPolicy = PolicyOf<"AuthorizationPolicy", AuthorizationPolicySpec>;

export type Policy = VirtualService | DestinationRule | PeerAuthentication | AuthorizationPolicy;
export type PolicyKind = Policy["kind"];

export const POLICY_KINDS: readonly PolicyKind[] = ["AuthorizationPolicy", "DestinationRule", "PeerAuthentication", "VirtualService"];

/** Istio's root namespace: a PeerAuthentication or AuthorizationPolicy there without a selector applies mesh-wide. */
export const ROOT_NAMESPACE = "istio-system";
export const DEFAULT_NAMESPACE = "default";

/** `Kind/namespace/name`: a policy's identity; an apply replaces the stored policy with the same key. */
export function policyKey(policy: Pick<Policy, "kind" | "namespace" | "name">): string {
  return `${policy.kind}/${policy.namespace}/${policy.name}`;
}
