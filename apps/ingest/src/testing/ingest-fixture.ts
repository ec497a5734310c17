// Test fixture: a freshly migrated database and a real ingest (OTLP/HTTP and OTLP/gRPC on free ports) in front
// of it, plus plain-SQL counting, so each integration test file starts from "migrated db + running ingest".
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startIngest, type Ingest, type IngestOptions } from "../ingest.ts";

export type IngestFixture = {
  testDb: TestDatabase;
  ingest: Ingest;
  httpUrl: string;
  /** What the OTel gRPC exporters take as `url` (http: means plaintext). */
  grpcUrl: string;
  count: (sql: string, params?: unknown[]) => Promise<number>;
  /** Resolves once /healthz reports this many items accepted and not yet stored. */
  waitForQueuedItems: (expected: number) => Promise<void>;
  /** Holds ACCESS EXCLUSIVE on spans from a test connection, so ingest's writes wait; resolves to the release. */
  lockSpans: () => Promise<() => Promise<void>>;
  stop: () => Promise<void>;
};

export const TEST_MAX_BODY_BYTES = 256 * 1024;

export async function startIngestFixture(options: Partial<IngestOptions> = {}): Promise<IngestFixture> {
  const testDb = await createTestDatabase();
  const ingest = await startIngest({
    pool: testDb.db.pool,
    host: "127.0.0.1",
    httpPort: 0,
    grpcPort: 0,
    maxBodyBytes: TEST_MAX_BODY_BYTES,
    retentionDays: 7,
    queueItems: 100_000,
    writers: 2,
    ...options,
  }).catch(async (error: unknown) => {
    await testDb.drop();
    throw error;
  });
  return {
    testDb,
    ingest,
    httpUrl: `http://127.0.0.1:${ingest.httpPort}`,
    grpcUrl: `http://127.0.0.1:${ingest.grpcPort}`,
    count: (sql, params) => countRows(testDb, sql, params),
    waitForQueuedItems: (expected) => waitForQueuedItems(`http://127.0.0.1:${ingest.httpPort}/healthz`, expected),
    lockSpans: () => lockSpans(testDb),
    stop: async () => {
      await ingest.stop();
      await testDb.drop();
    },
  };
}

/** `sql` is a `SELECT count(*) ...`; the count comes back as a number. */
async function countRows(testDb: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await testDb.db.pool.query<{ count: string }>(sql, params);
  return Number(rows[0]?.count);
}

async function lockSpans(testDb: TestDatabase): Promise<() => Promise<void>> {
  const client = await testDb.db.pool.connect();
  await client.query("BEGIN");
  await client.query("LOCK TABLE spans IN ACCESS EXCLUSIVE MODE");
  return async () => {
    await client.query("COMMIT");
    client.release();
  };
}

async function waitForQueuedItems(healthUrl: string, expected: number): Promise<void> {
  for (;;) {
    const health = (await (await fetch(healthUrl)).json()) as { queuedItems: number };
    if (health.queuedItems === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
