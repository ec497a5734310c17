// The wire shape of topology.graph: nodes are services or service versions (id `service.namespace[@version]`) with
// their inbound traffic; edges are caller → callee node ids with rate, errors, latency, mTLS share and protocols.
import { z } from "zod";
import { PROTOCOLS, type ServiceGraph } from "@trellis/db";
import { redSummaryFields } from "../common/red-summary.types.ts";
import { nameInput, timeRangeFields } from "../common/time-range-input.ts";

export const getGraphInput = z
  .object({
    ...timeRangeFields,
    view: z.enum(["service", "workload"], { error: 'must be "service" or "workload"' }).default("workload"),
    namespace: nameInput.optional(),
  })
  .prefault({});

export const graphNodeSchema = z.object({
  id: z.string(),
  service: z.string(),
  namespace: z.string(),
  version: z.string().nullable(),
  ...redSummaryFields,
});

export const graphEdgeSchema = z.object({
  source: z.string(),
  target: z.string(),
  ...redSummaryFields,
  mtlsShare: z.number().min(0).max(1),
  protocols: z.array(z.enum(PROTOCOLS)),
});

export const getGraphOutput = z.object({
  nodes: z.array(graphNodeSchema),
  edges: z.array(graphEdgeSchema),
}) satisfies z.ZodType<ServiceGraph>;
