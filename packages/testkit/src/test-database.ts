// Gives each integration test file its own freshly migrated database on the run's Postgres server, so test
// files can run in parallel and never see each other's rows.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { connectDatabase, migrate, type Database } from "@trellis/db";
import "./provided-context.ts";

export type TestDatabase = { url: string; name: string; db: Database; drop: () => Promise<void> };

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("postgresAdminUrl");
  const name = `trellis_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const db = await connectDatabase({ url, source: "the test database" });
  await migrate({ pool: db.pool });
  return {
    url,
    name,
    db,
    drop: async () => {
      await db.close();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
