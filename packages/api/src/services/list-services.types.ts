// The wire shape of services.list: per-service inbound RED numbers over the range, with a per-version split.
import { z } from "zod";
import type { ServiceStats } from "@trellis/db";
import { redSummaryFields } from "../common/red-summary.types.ts";
import { nameInput, timeRangeFields } from "../common/time-range-input.ts";

export const listServicesInput = z.object({ ...timeRangeFields, namespace: nameInput.optional() }).prefault({});

export const versionStatsSchema = z.object({ version: z.string(), ...redSummaryFields });

export const serviceStatsSchema = z.object({
  service: z.string(),
  namespace: z.string(),
  ...redSummaryFields,
  versions: z.array(versionStatsSchema),
});

export const listServicesOutput = z.array(serviceStatsSchema) satisfies z.ZodType<ServiceStats[]>;
