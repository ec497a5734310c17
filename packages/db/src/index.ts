export { connectDatabase, type Database, type ConnectOptions } from "./connect.ts";
export { describeDatabaseUrl, toConnectionError } from "./errors.ts";
export { migrate, findMigrationsDir, readMigrations, type Migration, type MigrateResult } from "./migrate.ts";
export { startPostgres, findFreePort, type PostgresHandle, type StartPostgresOptions } from "./postgres.ts";
export { createTelemetryStore, type TelemetryBatch, type TelemetryStore, type TelemetryStoreOptions, type WriteResult } from "./telemetry/telemetry-store.ts";
export { PartitionManager, PARTITIONED_TABLES, dayOf, partitionName, type PartitionedTable } from "./telemetry/partitions.ts";
export * as latencyHistogram from "./telemetry/latency-histogram.ts";
export type { PrismaClient } from "./generated/prisma/client.ts";
export * from "./telemetry/queries/index.ts";
export { findPolicies, findPolicy, findMeshRevision, type FindPoliciesOptions, type FindPolicyOptions } from "./policies/find-policies.ts";
export { findPolicyHistory, type FindPolicyHistoryOptions } from "./policies/find-policy-history.ts";
export {
  commitPolicyRevision,
  type CommitPolicyRevisionOptions,
  type CommitResult,
  type CommittedChange,
  type PolicyChange,
  type RevisionPlan,
} from "./policies/commit-policy-revision.ts";
export type { PolicyAction, PolicyHistory, PolicyMetadata, PolicyRef, PolicySet, PolicyVersionRecord, StoredPolicy } from "./policies/policy-records.ts";
