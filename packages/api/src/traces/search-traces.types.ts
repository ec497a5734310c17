// The wire shape of traces.search: filters on the whole trace (its services and operations, its own duration,
// errors, an attribute of any of its spans) over a range, newest first.
import { z } from "zod";
import { type TraceSummary } from "@trellis/db";
import { nameInput, timeRangeFields } from "../common/time-range-input.ts";

export const MAX_TRACE_LIMIT = 500;

const durationInput = z.number().nonnegative("must be 0 or more milliseconds");

export const searchTracesInput = z
  .object({
    ...timeRangeFields,
    service: nameInput.optional(),
    operation: nameInput.optional(),
    minDurationMs: durationInput.optional(),
    maxDurationMs: durationInput.optional(),
    errorOnly: z.boolean().optional(),
    attribute: z
      .object({
        key: nameInput,
        value: z.union([z.string(), z.number(), z.boolean()], { error: "must be a string, number or boolean" }),
      })
      .optional(),
    limit: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_TRACE_LIMIT, `must be at most ${MAX_TRACE_LIMIT}`).default(20),
  })
  .prefault({});

export const traceSummarySchema = z.object({
  traceId: z.string(),
  startTime: z.date(),
  durationMs: z.number().nonnegative(),
  spanCount: z.number().int().nonnegative(),
  errorCount: z.number().int().nonnegative(),
  rootService: z.string().nullable(),
  rootName: z.string().nullable(),
  services: z.array(z.string()),
});

export const searchTracesOutput = z.array(traceSummarySchema) satisfies z.ZodType<TraceSummary[]>;
