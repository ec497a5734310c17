// Vitest globalSetup for integration tests: one Postgres server per test run — the DATABASE_URL server when given,
// otherwise an embedded one in a temporary directory. Each test file then creates its own database on it.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startPostgres } from "@trellis/db";
import "./provided-context.ts";


export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseUrl = process.env.DATABASE_URL;
  const workDir = mkdtempSync(join(tmpdir(), "trellis-test-pg-"));
  chmodSync(workDir, 0o755); // as root, Postgres runs as the `postgres` user, which must reach the data directory
  const postgres = await startPostgres({ databaseUrl, dataDir: join(workDir, "data"), persistent: false });
  project.provide("postgresAdminUrl", postgres.url);
  return async () => {
    await postgres.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
}
