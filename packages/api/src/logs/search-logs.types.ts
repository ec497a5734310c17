// The wire shape of logs.search: access-log filters over a range, a page of records newest first, and the opaque
// cursor of the next page.
import { z } from "zod";
import type { LogPage } from "@trellis/db";
import { attributesSchema } from "../common/attributes.types.ts";
import { nameInput, timeRangeFields } from "../common/time-range-input.ts";

export const MAX_LOG_LIMIT = 500;

export const searchLogsInput = z
  .object({
    ...timeRangeFields,
    service: nameInput.optional(),
    statusClass: z.enum(["2xx", "3xx", "4xx", "5xx"], { error: 'must be "2xx", "3xx", "4xx" or "5xx"' }).optional(),
    responseFlags: z
      .string()
      .regex(/^[A-Z]{1,5}$/, "must be one Envoy response flag in capitals, e.g. UF, URX or NR")
      .optional(),
    pathContains: z.string().min(1, "must not be empty").max(1024, "must be at most 1024 characters").optional(),
    limit: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_LOG_LIMIT, `must be at most ${MAX_LOG_LIMIT}`).default(50),
    cursor: z.string().max(256, "is not one logs.search returned").optional(),
  })
  .prefault({});

const text = z.string().nullable();

export const logRecordSchema = z.object({
  recordId: z.string(),
  time: z.date(),
  service: z.string(),
  namespace: text,
  severityNumber: z.number().int(),
  severityText: text,
  body: text,
  traceId: text,
  spanId: text,
  reporter: text,
  method: text,
  path: text,
  protocol: text,
  responseCode: z.number().int().nullable(),
  responseFlags: text,
  durationMs: z.number().nullable(),
  bytesReceived: z.number().nullable(),
  bytesSent: z.number().nullable(),
  authority: text,
  upstreamHost: text,
  requestId: text,
  attemptCount: z.number().int().nullable(),
  sourceWorkload: text,
  destinationWorkload: text,
  destinationService: text,
  attributes: attributesSchema,
});

export const searchLogsOutput = z.object({
  records: z.array(logRecordSchema),
  nextCursor: z.string().nullable(),
}) satisfies z.ZodType<LogPage>;
