export { connectDatabase, type Database, type ConnectOptions } from "./connect.ts";
export { describeDatabaseUrl, toConnectionError } from "./errors.ts";
export { migrate, findMigrationsDir, readMigrations, type Migration, type MigrateResult } from "./migrate.ts";
export { startPostgres, findFreePort, type PostgresHandle, type StartPostgresOptions } from "./postgres.ts";
export { insertSpans } from "./telemetry/insert-spans.ts";
export type { PrismaClient } from "./generated/prisma/client.ts";
