// What the benchmark runs against: a fresh database (a new one on DATABASE_URL's server, or an embedded Postgres in
// a temporary directory), migrated, and the built control plane as a child process, so its RSS is its own.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { connectDatabase, findFreePort, migrate, startPostgres } from "@trellis/db";

export const repoRoot = resolve(import.meta.dirname, "../..");
const controlPlaneDir = join(repoRoot, "apps/control-plane");

export type BenchEnvironment = {
  url: string;
  pid: number;
  logFile: string;
  /** The control plane's TRELLIS_JOIN_SECRET, for minting join tokens (POST /v1/join-tokens). */
  joinSecret: string;
  readRss: () => { rssMb: number; hwmMb: number };
  stop: () => Promise<void>;
};

export async function startEnvironment(log: (line: string) => void): Promise<BenchEnvironment> {
  const workDir = mkdtempSync(join(tmpdir(), "trellis-bench-"));
  chmodSync(workDir, 0o755); // as root, the embedded Postgres runs as `postgres` and must reach its data directory
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(workDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const databaseUrl = await freshDatabase(workDir, cleanups, log);
    const db = await connectDatabase({ url: databaseUrl, source: "the benchmark database" });
    try {
      await migrate({ pool: db.pool });
    } finally {
      await db.close();
    }

    log("building apps/control-plane (esbuild)…");
    const build = spawnSync(process.execPath, ["../../scripts/build-node-app.mjs"], { cwd: controlPlaneDir, stdio: "inherit" });
    if (build.status !== 0) throw new Error("building the control plane failed (output above)");

    const port = await findFreePort();
    const logFile = join(workDir, "control-plane.log");
    const output = createWriteStream(logFile);
    const joinSecret = randomBytes(32).toString("hex");
    // TRELLIS_BENCH_NODE_FLAGS: extra node flags for the control plane, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeFlags = (process.env.TRELLIS_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
    const child = spawn(process.execPath, [...nodeFlags, join(controlPlaneDir, "dist/main.js")], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        TRELLIS_CONTROL_PLANE_PORT: String(port),
        TRELLIS_CA_DIR: join(workDir, "ca"),
        TRELLIS_JOIN_SECRET: joinSecret,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(output);
    child.stderr.pipe(output);
    cleanups.push(() => stopChild(child));
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, child, logFile);
    const pid = child.pid ?? 0;
    return { url, pid, logFile, joinSecret, readRss: () => readRss(pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A new database for this run, dropped by the cleanups: on DATABASE_URL's server, or an embedded Postgres in workDir. */
export async function freshDatabase(workDir: string, cleanups: Array<() => Promise<void> | void>, log: (line: string) => void): Promise<string> {
  const given = process.env.DATABASE_URL;
  if (given) {
    const name = `trellis_bench_${randomBytes(4).toString("hex")}`;
    await adminQuery(given, `CREATE DATABASE ${name}`);
    cleanups.push(() => adminQuery(given, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    const url = new URL(given);
    url.pathname = `/${name}`;
    log(`database: ${name} on DATABASE_URL's server`);
    return url.toString();
  }
  log("database: embedded Postgres in a temporary directory");
  const postgres = await startPostgres({ dataDir: join(workDir, "pgdata"), persistent: false });
  cleanups.push(() => postgres.stop());
  return postgres.url;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function waitForHealth(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the control plane exited (code ${child.exitCode}):\n${readFileSync(logFile, "utf8")}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the control plane did not answer ${url}/healthz within 30 s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // Its stop flushes the registry's queued writes, which can take a while after a burst of rounds.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** VmRSS (now) and VmHWM (peak) of a Linux process, in MB. */
function readRss(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}
