// The mesh's pure config model: Istio policies (parse, validate, export, diff), per-sidecar snapshots built from
// them, and the config-stream protocol. No I/O.
export {
  authorizationRuleSchema,
  canonicalJson,
  clusterSchema,
  endpointSchema,
  inboundPolicySchema,
  mtlsModeSchema,
  retryOnSchema,
  routeActionSchema,
  routeMatchSchema,
  snapshotSchema,
  stringMatchSchema,
  trafficPolicySchema,
  virtualHostSchema,
  type Cluster,
  type Endpoint,
  type InboundPolicy,
  type MtlsMode,
  type RegisteredWorkload,
  type RetryOn,
  type RouteAction,
  type RouteMatch,
  type Snapshot,
  type StringMatch,
  type TrafficPolicy,
  type VirtualHost,
  type WorkloadMode,
} from "./snapshot.ts";
export { buildSnapshot, buildSnapshots, type BuildSnapshotOptions, type BuildSnapshotsOptions } from "./snapshot/build.ts";
export { checkSnapshot, type SnapshotCheck } from "./snapshot/check.ts";
export { parsePolicies, type PolicyParseResult } from "./istio/parse.ts";
export { formatDuration, parseDuration } from "./istio/duration.ts";
export { formatPolicyError, type PolicyError } from "./policy/errors.ts";
export { validatePolicySet } from "./policy/validate.ts";
export { mergePolicies, validateApply } from "./policy/merge.ts";
export { exportPolicies, exportPolicy, sortPolicies } from "./policy/export.ts";
export { diffPolicies } from "./policy/diff.ts";
export { resolveHost, type ServiceRef } from "./policy/hosts.ts";
export {
  DEFAULT_NAMESPACE,
  POLICY_KINDS,
  policyKey,
  RETRY_ON_VALUES,
  ROOT_NAMESPACE,
  type AuthorizationPolicy,
  type AuthorizationPolicySpec,
  type DestinationRule,
  type DestinationRuleSpec,
  type PeerAuthentication,
  type PeerAuthenticationSpec,
  type Policy,
  type PolicyKind,
  type VirtualService,
  type VirtualServiceSpec,
} from "./policy/types.ts";
export {
  ackMessageSchema,
  configMessageSchema,
  helloMessageSchema,
  nackMessageSchema,
  nodeSchema,
  parseConfigMessage,
  parseHello,
  parseMessage,
  parseSidecarReply,
  readVersionAndNonce,
  sidecarReplySchema,
  type AckMessage,
  type ConfigMessage,
  type HelloMessage,
  type NackMessage,
  type NodeInfo,
  type ParseResult,
  type SidecarReply,
} from "./protocol.ts";
export { createLineSplitter, encodeLine, MAX_LINE_CHARS, type LineSplitter } from "./ndjson.ts";
export { formatIssues } from "./format-issues.ts";
