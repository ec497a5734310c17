// The look-back window the dashboard's RED views take: how many seconds before now (default five minutes).
import { z } from "zod";

export const windowInput = z
  .object({
    windowSeconds: z
      .number()
      .int("must be a whole number of seconds")
      .min(10, "must be at least 10 seconds")
      .max(7 * 86_400, "must be at most 604800 seconds (seven days)")
      .default(300),
  })
  .prefault({});
