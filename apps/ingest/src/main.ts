// The ingest process: read the environment, connect to Postgres, serve OTLP/HTTP and OTLP/gRPC until SIGINT/SIGTERM.
import { connectDatabase, type Database } from "@trellis/db";
import { AppError, runMain } from "@trellis/runtime";
import { readEnv } from "./env.ts";
import { startIngest } from "./ingest.ts";

runMain("ingest", async () => {
  const env = readEnv();
  // Every writer holds a connection for its transaction; the rest serve health checks and the store's upkeep.
  const db = await connectDatabase({ url: env.DATABASE_URL, max: env.TRELLIS_INGEST_WRITERS + 3 });
  try {
    await requireSchema(db);
    const ingest = await startIngest({
      pool: db.pool,
      host: env.TRELLIS_INGEST_HOST,
      httpPort: env.TRELLIS_INGEST_PORT,
      grpcPort: env.TRELLIS_INGEST_GRPC_PORT,
      maxBodyBytes: env.TRELLIS_INGEST_MAX_BODY_BYTES,
      token: env.TRELLIS_INGEST_TOKEN,
      retentionDays: env.TRELLIS_RETENTION_DAYS,
      queueItems: env.TRELLIS_INGEST_QUEUE_ITEMS,
      writers: env.TRELLIS_INGEST_WRITERS,
    });
    const auth = env.TRELLIS_INGEST_TOKEN ? "bearer token required" : "no token (TRELLIS_INGEST_TOKEN unset)";
    console.log(`ingest: OTLP/HTTP on http://${env.TRELLIS_INGEST_HOST}:${ingest.httpPort} (POST /v1/traces, /v1/metrics, /v1/logs), ${auth}`);
    console.log(`ingest: OTLP/gRPC on ${env.TRELLIS_INGEST_HOST}:${ingest.grpcPort}`);
    return async () => {
      await ingest.stop();
      await db.close();
    };
  } catch (error) {
    await db.close();
    throw error;
  }
});

/** Ingest does not migrate; a database nobody migrated would otherwise fail every batch with a 500. */
async function requireSchema(db: Database): Promise<void> {
  const { rows } = await db.pool.query<{ spans: string | null }>(`SELECT to_regclass('spans')::text AS spans`);
  if (rows[0]?.spans) return;
  throw new AppError("CONFIG", "the database in DATABASE_URL has no Trellis tables (no \"spans\" table); migrate it first (trellis up does, or migrate() from @trellis/db)");
}
