// The wire shape of traces.get: one trace id in (W3C form), the trace's spans out in tree order with their depth.
import { z } from "zod";
import { SPAN_KINDS, STATUS_CODES, type Trace } from "@trellis/db";
import { attributesSchema } from "../common/attributes.types.ts";

export const getTraceInput = z.object({
  traceId: z
    .string({ error: "must be a string" })
    .regex(/^[0-9a-fA-F]{32}$/, "must be 32 hexadecimal characters (a W3C trace id, e.g. 4bf92f3577b34da6a3ce929d0e0e4736)"),
});

export const traceSpanSchema = z.object({
  spanId: z.string(),
  parentSpanId: z.string().nullable(),
  service: z.string(),
  namespace: z.string().nullable(),
  version: z.string().nullable(),
  name: z.string(),
  kind: z.enum(SPAN_KINDS),
  startTime: z.date(),
  offsetMs: z.number(),
  durationMs: z.number(),
  status: z.object({ code: z.enum(STATUS_CODES), message: z.string().nullable() }),
  attributes: attributesSchema,
  events: z.array(z.object({ name: z.string(), timeUnixNano: z.string(), attributes: attributesSchema })),
  links: z.array(z.object({ traceId: z.string(), spanId: z.string(), traceState: z.string().nullable(), attributes: attributesSchema })),
  depth: z.number().int().nonnegative(),
});

export const getTraceOutput = z.object({
  traceId: z.string(),
  startTime: z.date(),
  durationMs: z.number().nonnegative(),
  spanCount: z.number().int().positive(),
  services: z.array(z.string()),
  spans: z.array(traceSpanSchema),
}) satisfies z.ZodType<Trace>;
