// One database connection pool per server process, opened on first use (never at import, so builds need no
// database) and kept on globalThis so Next's module reloading does not open another.
import "server-only";
import { connectDatabase, type Database } from "@trellis/db";
import { AppError } from "@trellis/runtime";
import { env } from "../env.ts";

const cache = globalThis as typeof globalThis & { trellisWebDatabase?: Promise<Database> };

export function getDatabase(): Promise<Database> {
  if (cache.trellisWebDatabase) return cache.trellisWebDatabase;
  const url = env.DATABASE_URL;
  if (!url) {
    return Promise.reject(
      new AppError("CONFIG", "DATABASE_URL is not set; start the dashboard with `trellis up`, or set DATABASE_URL=postgresql://user@host:5432/trellis"),
    );
  }
  const pending = connectDatabase({ url, source: "DATABASE_URL", max: 5 });
  cache.trellisWebDatabase = pending;
  // A failed connection is not cached: the next request tries again (Postgres may simply not be up yet).
  pending.catch(() => {
    if (cache.trellisWebDatabase === pending) cache.trellisWebDatabase = undefined;
  });
  return pending;
}
