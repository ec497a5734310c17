// The wire shape of services.list: per-service RED metrics over the window, with a per-version split.
import { z } from "zod";
import type { ServiceStats } from "@trellis/db";

export const versionStatsSchema = z.object({
  version: z.string().nullable(),
  requestRate: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
});

export const serviceStatsSchema = z.object({
  service: z.string(),
  namespace: z.string(),
  requestRate: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
  p50Ms: z.number().nonnegative().nullable(),
  p99Ms: z.number().nonnegative().nullable(),
  versions: z.array(versionStatsSchema),
});

export const listServicesOutput = z.array(serviceStatsSchema) satisfies z.ZodType<ServiceStats[]>;
