// The wire shape of metrics.red: what to chart (a service, one of its versions, or an edge), the range and the step;
// back comes one point per step, steps without traffic included at zero.
import { z } from "zod";
import type { RedSeries } from "@trellis/db";
import { redSummaryFields } from "../common/red-summary.types.ts";
import { nameInput, timeRangeFields } from "../common/time-range-input.ts";

export const redTargetInput = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("service"), service: nameInput, namespace: nameInput.optional() }),
    z.object({ kind: z.literal("version"), service: nameInput, version: nameInput, namespace: nameInput.optional() }),
    z.object({
      kind: z.literal("edge"),
      source: nameInput,
      destination: nameInput,
      sourceNamespace: nameInput.optional(),
      destinationNamespace: nameInput.optional(),
    }),
  ],
  { error: 'must be "service", "version" or "edge"' },
);

export const getRedInput = z.object({
  ...timeRangeFields,
  target: redTargetInput,
  stepSeconds: z.number().int("must be a whole number of seconds"),
});

export const getRedOutput = z.object({
  stepSeconds: z.number().int().positive(),
  points: z.array(z.object({ time: z.date(), ...redSummaryFields })),
}) satisfies z.ZodType<RedSeries>;
