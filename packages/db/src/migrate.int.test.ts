// The migrate step: applies in order once, is a no-op the second time, serialises concurrent runs, and
// refuses a migration edited after it was applied.
import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { withDatabase } from "@trellis/testkit";
import { findMigrationsDir, migrate, readMigrations } from "./migrate.ts";

describe("migrate", () => {
  const name = `trellis_migrate_${process.pid}_${Date.now()}`;
  let admin: pg.Client;
  let pool: pg.Pool;
  let dir: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: inject("postgresAdminUrl") });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    pool = new pg.Pool({ connectionString: withDatabase(inject("postgresAdminUrl"), name), max: 4 });
    // DROP DATABASE … WITH (FORCE) at the end may terminate a connection the pool is still closing.
    pool.on("error", () => {});
    dir = mkdtempSync(join(tmpdir(), "trellis-migrations-"));
    cpSync(findMigrationsDir(), dir, { recursive: true });
  });

  afterAll(async () => {
    await pool?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("applies every migration once, even when several processes start together", async () => {
    const all = readMigrations(dir).map((m) => m.name);
    const results = await Promise.all([migrate({ pool, dir }), migrate({ pool, dir }), migrate({ pool, dir })]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(all);
    const { rows } = await pool.query(`SELECT name FROM "_trellis_migrations" ORDER BY name`);
    expect(rows.map((r) => r.name)).toEqual(all);
    expect(await migrate({ pool, dir })).toEqual({ applied: [], alreadyApplied: all.length });
  });

  it("applies a new migration added later, and only that one", async () => {
    const next = join(dir, "29991231000000_add_probe");
    cpSync(join(dir, readMigrations(dir)[0]?.name ?? ""), next, { recursive: true });
    writeFileSync(join(next, "migration.sql"), `CREATE TABLE "probe" ("id" INTEGER PRIMARY KEY);`);
    const result = await migrate({ pool, dir });
    expect(result.applied).toEqual(["29991231000000_add_probe"]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM probe`)).rows[0].n).toBe(0);
  });

  it("refuses a migration that was edited after it was applied, naming it", async () => {
    appendFileSync(join(dir, "29991231000000_add_probe", "migration.sql"), "\n-- sneaky edit\n");
    await expect(migrate({ pool, dir })).rejects.toThrow(/migration 29991231000000_add_probe was edited after it was applied/);
  });

  it("rolls back a failing migration and reports which one failed", async () => {
    rmSync(join(dir, "29991231000000_add_probe"), { recursive: true });
    await pool.query(`DELETE FROM "_trellis_migrations" WHERE name = '29991231000000_add_probe'`);
    await pool.query(`DROP TABLE probe`);
    const bad = join(dir, "29991231000001_broken");
    cpSync(join(dir, readMigrations(dir)[0]?.name ?? ""), bad, { recursive: true });
    writeFileSync(join(bad, "migration.sql"), `CREATE TABLE "half" ("id" INTEGER); SELECT * FROM no_such_table;`);
    await expect(migrate({ pool, dir })).rejects.toThrow(/migration 29991231000001_broken failed: relation "no_such_table" does not exist/);
    const { rows } = await pool.query(`SELECT to_regclass('half') AS t`);
    expect(rows[0].t).toBeNull();
  });
});
