// The ingest process's configuration, validated once at start; nothing else reads process.env.
import { z } from "zod";
import { AppError } from "@trellis/runtime";

/** An empty variable (`TRELLIS_INGEST_PORT=`) means "use the default", not "0". */
function unsetWhenEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema);
}

const port = (fallback: number) => unsetWhenEmpty(z.coerce.number().int().min(0).max(65535).default(fallback));
const positiveInt = (fallback: number) => unsetWhenEmpty(z.coerce.number().int().positive().default(fallback));

const envSchema = z.object({
  TRELLIS_INGEST_PORT: port(4318),
  TRELLIS_INGEST_GRPC_PORT: port(4317),
  TRELLIS_INGEST_HOST: unsetWhenEmpty(z.string().default("127.0.0.1")),
  DATABASE_URL: unsetWhenEmpty(z.string({ error: "is required (e.g. postgresql://postgres@127.0.0.1:5432/trellis)" })),
  TRELLIS_INGEST_MAX_BODY_BYTES: positiveInt(16 * 1024 * 1024),
  /** When set, every export must carry `Authorization: Bearer <token>` (HTTP header or gRPC metadata). */
  TRELLIS_INGEST_TOKEN: unsetWhenEmpty(z.string().optional()),
  TRELLIS_RETENTION_DAYS: positiveInt(7),
  /** Spans + log records + metric points accepted and not yet committed; beyond it exports get 429 / UNAVAILABLE. */
  TRELLIS_INGEST_QUEUE_ITEMS: positiveInt(100_000),
  /** Concurrent store writes (each one Postgres connection and transaction). */
  TRELLIS_INGEST_WRITERS: positiveInt(4),
});

export type IngestEnv = z.infer<typeof envSchema>;

export function readEnv(source: Record<string, string | undefined> = process.env): IngestEnv {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
  throw new AppError("CONFIG", `invalid environment: ${problems.join("; ")}`);
}
