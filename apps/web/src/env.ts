// The dashboard's configuration, validated once, server-side only. DATABASE_URL is checked when the database is
// first needed rather than at import, so `next build` runs without one.
import "server-only";
import { z } from "zod";

const schema = z.object({
  DATABASE_URL: z.string().url("DATABASE_URL must be a postgresql:// URL").optional(),
  TRELLIS_INGEST_URL: z.string().url().default("http://127.0.0.1:4318"),
  TRELLIS_CONTROL_PLANE_URL: z.string().url().default("http://127.0.0.1:15010"),
});

function readEnv() {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new Error(`web: invalid environment — ${problems}`);
  }
  return parsed.data;
}

export const env = readEnv();
