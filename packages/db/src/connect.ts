// One connection pool per process, shared by Prisma (mesh state) and the raw-SQL telemetry path.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";
import { toConnectionError } from "./errors.ts";

export type Database = {
  url: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  close: () => Promise<void>;
};

export type ConnectOptions = { url: string; source?: string; max?: number };

export async function connectDatabase({ url, source = "DATABASE_URL", max = 10 }: ConnectOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its server emits 'error' on the pool; without a listener that crashes the process.
  pool.on("error", (error) => console.error(`postgres pool: ${error.message}`));
  // A client checked out when the server goes away (a restart mid-write) emits 'error' on itself: the query in
  // flight fails and is handled by its caller; the event must not crash the process.
  pool.on("connect", (client) => client.on("error", (error) => console.error(`postgres client: ${error.message}`)));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw toConnectionError(error, url, source);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    url,
    pool,
    prisma,
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
