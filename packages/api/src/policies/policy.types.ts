// Wire shapes shared by the policies procedures: how a policy is named, a stored policy, and what an apply or
// rollback reports (the control plane's ApplyResult).
import { z } from "zod";
import type { PolicyMetadata, StoredPolicy } from "@trellis/db";

export const policyKindSchema = z.enum(["VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy"], {
  error: "must be VirtualService, DestinationRule, PeerAuthentication or AuthorizationPolicy",
});

const dnsName = z.string().min(1, "must not be empty").max(253);

export const policyRefInput = z.object({
  kind: policyKindSchema,
  namespace: dnsName.default("default"),
  name: dnsName,
});

export const metadataSchema = z.object({
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
}) satisfies z.ZodType<PolicyMetadata>;

export const storedPolicySchema = z.object({
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  apiVersion: z.string(),
  metadata: metadataSchema,
  /** The spec as the policy model stores it (durations in ms); `sourceYaml` is the Istio document. */
  spec: z.unknown(),
  sourceYaml: z.string(),
  version: z.number().int(),
  revision: z.number().int(),
  author: z.string(),
  updatedAt: z.date(),
}) satisfies z.ZodType<StoredPolicy>;

const refSchema = z.object({ kind: z.string(), namespace: z.string(), name: z.string() });

export const applyResultSchema = z.object({
  revision: z.number().int(),
  previousRevision: z.number().int(),
  dryRun: z.boolean(),
  changed: z.boolean(),
  policies: z.array(refSchema.extend({ action: z.enum(["created", "updated", "unchanged", "rolled-back"]), version: z.number().int(), diff: z.string() })),
  affectedSidecars: z.array(z.object({ id: z.string(), service: z.string(), namespace: z.string(), version: z.string() })),
  sidecars: z
    .array(
      z.object({
        id: z.string(),
        service: z.string(),
        namespace: z.string(),
        version: z.string(),
        configVersion: z.number().int().nullable(),
        status: z.enum(["acked", "nacked", "disconnected", "timeout"]),
        error: z.string().nullable(),
      }),
    )
    .nullable(),
});

export type ApplyResult = z.infer<typeof applyResultSchema>;

/** Options every change carries: who makes it, whether only to preview it, and the revision it was based on. */
export const changeOptions = {
  author: z.string().trim().min(1).max(200).default("dashboard"),
  dryRun: z.boolean().default(false),
  /** The mesh revision the user's view was built from; a newer one makes the change a conflict. */
  expectVersion: z.number().int().min(0).optional(),
  /** Wait (up to 10 s) for the changed sidecars to ACK or NACK, and report each. */
  wait: z.boolean().default(false),
};
