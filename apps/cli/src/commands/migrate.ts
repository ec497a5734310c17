// `trellis migrate`: apply the SQL migrations to DATABASE_URL (what `trellis up` does at start).
import { connectDatabase, migrate } from "@trellis/db";
import { AppError } from "@trellis/runtime";
import { env } from "../env.ts";

export async function runMigrate(): Promise<void> {
  if (!env.DATABASE_URL) throw new AppError("BAD_REQUEST", "DATABASE_URL is not set; `trellis up` migrates its embedded Postgres by itself");
  const db = await connectDatabase({ url: env.DATABASE_URL });
  try {
    const result = await migrate({ pool: db.pool });
    console.log(`migrations: ${result.applied.length} applied (${result.applied.join(", ") || "none"}), ${result.alreadyApplied} already applied`);
  } finally {
    await db.close();
  }
}
