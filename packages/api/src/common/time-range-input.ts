// The time range every telemetry procedure takes: the last windowSeconds, or explicit from/to (Dates; superjson
// carries them). Combinations (both given, from after to) are judged by the query, which says what is wrong.
import { z } from "zod";

export const timeRangeFields = {
  windowSeconds: z
    .number()
    .int("must be a whole number of seconds")
    .min(10, "must be at least 10 seconds")
    .max(7 * 86_400, "must be at most 604800 seconds (seven days)")
    .optional(),
  from: z.date({ error: "must be a Date" }).optional(),
  to: z.date({ error: "must be a Date" }).optional(),
};

/** A non-empty name (service, namespace, version, operation). */
export const nameInput = z.string().min(1, "must not be empty").max(256, "must be at most 256 characters");
