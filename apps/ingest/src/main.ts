// The ingest process: read the environment, connect to Postgres, serve OTLP/HTTP until SIGINT/SIGTERM.
import { connectDatabase, type Database } from "@trellis/db";
import { AppError, runMain } from "@trellis/runtime";
import { readEnv } from "./env.ts";
import { startIngest } from "./server.ts";

runMain("ingest", async () => {
  const env = readEnv();
  const db = await connectDatabase({ url: env.DATABASE_URL });
  try {
    await requireSchema(db);
    const server = await startIngest({ db, port: env.TRELLIS_INGEST_PORT, host: env.TRELLIS_INGEST_HOST, maxBodyBytes: env.TRELLIS_INGEST_MAX_BODY_BYTES });
    console.log(`ingest: OTLP/HTTP on http://${env.TRELLIS_INGEST_HOST}:${server.port} (POST /v1/traces)`);
    return async () => {
      await server.stop();
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
