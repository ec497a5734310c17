// The shapes in which stored policies leave the database: the control plane, the tRPC API and the CLI (through the
// control plane's REST) all read these, so a policy looks the same wherever it is shown.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";

/** Names one policy: Istio's kind plus metadata.namespace and metadata.name. */
export type PolicyRef = { kind: string; namespace: string; name: string };

/** metadata.labels and metadata.annotations as applied. */
export type PolicyMetadata = { labels?: Record<string, string>; annotations?: Record<string, string> };

/** A policy as it is now: its current version's content and who made it. */
export type StoredPolicy = PolicyRef & {
  apiVersion: string;
  metadata: PolicyMetadata;
  /** The policy's spec as the policy model stores it (JSON). */
  spec: unknown;
  /** The YAML document the current version was applied from. */
  sourceYaml: string;
  version: number;
  /** The mesh revision that made the current version. */
  revision: number;
  author: string;
  updatedAt: Date;
};

/** Every current policy, and the mesh revision they make up (0 before the first apply). */
export type PolicySet = { revision: number; policies: StoredPolicy[] };

export type PolicyAction = "created" | "updated" | "rolled-back";

/** One immutable version in a policy's history. */
export type PolicyVersionRecord = {
  version: number;
  revision: number;
  action: PolicyAction;
  apiVersion: string;
  metadata: PolicyMetadata;
  spec: unknown;
  sourceYaml: string;
  /** Unified diff to the previous version. */
  diff: string;
  author: string;
  createdAt: Date;
};

export type PolicyHistory = PolicyRef & { currentVersion: number; versions: PolicyVersionRecord[] };

/** The Prisma client or an interactive transaction's client: the queries here run in either. */
export type PolicyClient = Pick<PrismaClient, "policy" | "policyVersion" | "policyRevision"> | Prisma.TransactionClient;

/** Stored by commitPolicyRevision from a PolicyMetadata, so the cast only restores the type JSON lost. */
export function readMetadata(value: unknown): PolicyMetadata {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as PolicyMetadata) : {};
}

export function readAction(value: string): PolicyAction {
  return value === "created" || value === "rolled-back" ? value : "updated";
}
