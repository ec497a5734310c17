// The wire shape of mesh.sidecars: each registered workload and the config version it runs.
import { z } from "zod";
import type { Sidecar } from "@trellis/db";

export const sidecarSchema = z.object({
  id: z.string(),
  service: z.string(),
  namespace: z.string(),
  version: z.string(),
  mode: z.string(),
  address: z.string(),
  adminUrl: z.string(),
  inboundUrl: z.string(),
  connected: z.boolean(),
  configVersion: z.number().int().nullable(),
  pushedVersion: z.number().int().nullable(),
  acked: z.boolean(),
  lastError: z.string().nullable(),
  certExpiry: z.date().nullable(),
  registeredAt: z.date(),
  lastSeenAt: z.date(),
});

export const listSidecarsOutput = z.array(sidecarSchema) satisfies z.ZodType<Sidecar[]>;
