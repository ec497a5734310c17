// The wire shape of policies.history.
import { z } from "zod";
import type { PolicyHistory } from "@trellis/db";
import { metadataSchema, policyRefInput } from "./policy.types.ts";

export const getPolicyHistoryInput = policyRefInput;

export const getPolicyHistoryOutput = z.object({
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  currentVersion: z.number().int(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      revision: z.number().int(),
      action: z.enum(["created", "updated", "rolled-back"]),
      apiVersion: z.string(),
      metadata: metadataSchema,
      spec: z.unknown(),
      sourceYaml: z.string(),
      diff: z.string(),
      author: z.string(),
      createdAt: z.date(),
    }),
  ),
}) satisfies z.ZodType<PolicyHistory>;
