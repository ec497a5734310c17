// The wire shape of topology.graph: nodes are workload versions (id `service@version`, or `service` when the spans
// carry no version), edges are caller → callee node ids with the caller's view of the traffic.
import { z } from "zod";
import type { ServiceGraph } from "@trellis/db";

export const graphNodeSchema = z.object({
  id: z.string(),
  service: z.string(),
  namespace: z.string(),
  version: z.string().nullable(),
  requestRate: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
});

export const graphEdgeSchema = z.object({
  source: z.string(),
  target: z.string(),
  requestRate: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
  p50Ms: z.number().nonnegative(),
});

export const getGraphOutput = z.object({
  nodes: z.array(graphNodeSchema),
  edges: z.array(graphEdgeSchema),
}) satisfies z.ZodType<ServiceGraph>;
