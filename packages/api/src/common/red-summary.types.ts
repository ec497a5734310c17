// The RED numbers every rollup-based answer carries (graph nodes and edges, services, versions, series points).
import { z } from "zod";

export const redSummaryFields = {
  requestRate: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
  p50Ms: z.number().nonnegative().nullable(),
  p95Ms: z.number().nonnegative().nullable(),
  p99Ms: z.number().nonnegative().nullable(),
};
