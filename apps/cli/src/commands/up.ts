// `trellis up`: the whole mesh on one machine — Postgres (embedded unless DATABASE_URL), migrations, ingest,
// control plane, the dashboard and the demo — each announced with one readiness line, all stopped on Ctrl-C.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { connectDatabase, describeDatabaseUrl, migrate, startPostgres, type PostgresHandle } from "@trellis/db";
import { AppError, isAppError } from "@trellis/runtime";
import { env, inheritedEnv } from "../env.ts";
import { entries, repoRoot } from "../paths.ts";
import { ComponentFailed, Supervisor, waitUntilReady } from "../supervisor.ts";

export type UpOptions = { build: boolean; demo: boolean; verbose: boolean };

const say = (component: string, message: string) => console.log(`${component.padEnd(14)} ${message}`);

export async function runUp(options: UpOptions): Promise<void> {
  const startedAt = Date.now();
  const supervisor = new Supervisor();
  let postgres: PostgresHandle | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say("trellis", "stopping…");
    await supervisor.stopAll();
    await postgres?.stop().catch((error: unknown) => console.error(`postgres: stop failed: ${(error as Error).message}`));
    say("trellis", "stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  supervisor.onUnexpectedExit = (component, code) => {
    if (shuttingDown) return;
    console.error(`\n${component.name} exited unexpectedly (code ${code}); last output:\n${indent(component.tail())}\nfull log: ${component.logFile}`);
    void shutdown(1);
  };

  try {
    await assertPortsFree(options.demo);
    if (options.build) buildAll();

    postgres = await startPostgres({ databaseUrl: env.DATABASE_URL, dataDir: join(env.TRELLIS_HOME, "pgdata") });
    say("postgres", postgres.embedded ? `ready (embedded, data in ${join(env.TRELLIS_HOME, "pgdata")}, ${describeDatabaseUrl(postgres.url)})` : `ready (${describeDatabaseUrl(postgres.url)} from DATABASE_URL)`);
    const databaseUrl = postgres.url;

    const db = await connectDatabase({ url: databaseUrl, source: postgres.embedded ? "the embedded Postgres" : "DATABASE_URL" });
    try {
      const result = await migrate({ pool: db.pool });
      say("migrations", `ready (${result.applied.length} applied, ${result.alreadyApplied} already applied)`);
    } finally {
      await db.close();
    }

    const childEnv = { ...inheritedEnv, DATABASE_URL: databaseUrl };
    const logDir = join(env.TRELLIS_HOME, "logs");
    const node = process.execPath;

    // The mesh CA's root lives in <home>/ca; the join secret signs the tokens sidecars present to it. Only the
    // control plane and the demo launcher (which asks it for one token per sidecar) get the secret.
    const joinSecret = readOrCreateJoinSecret(env.TRELLIS_HOME);
    const caEnv = { TRELLIS_CA_DIR: join(env.TRELLIS_HOME, "ca"), TRELLIS_JOIN_SECRET: joinSecret };

    const ingestUrl = `http://127.0.0.1:${env.TRELLIS_INGEST_PORT}`;
    const ingestEnv = { ...childEnv, TRELLIS_INGEST_PORT: String(env.TRELLIS_INGEST_PORT), TRELLIS_INGEST_GRPC_PORT: String(env.TRELLIS_INGEST_GRPC_PORT) };
    const ingest = supervisor.start({ name: "ingest", command: node, args: [entries.ingest], env: ingestEnv, logDir, ipc: true, verbose: options.verbose });
    const controlPlane = supervisor.start({
      name: "control-plane",
      command: node,
      args: [entries.controlPlane],
      env: { ...childEnv, ...caEnv },
      logDir,
      ipc: true,
      verbose: options.verbose,
    });
    await waitUntilReady(ingest, `${ingestUrl}/healthz`);
    say("ingest", `ready ${ingestUrl} (OTLP/HTTP), 127.0.0.1:${env.TRELLIS_INGEST_GRPC_PORT} (OTLP/gRPC)`);
    await waitUntilReady(controlPlane, `${env.TRELLIS_CONTROL_PLANE_URL}/healthz`);
    say("control-plane", `ready ${env.TRELLIS_CONTROL_PLANE_URL}`);

    const webUrl = `http://localhost:${env.TRELLIS_WEB_PORT}`;
    const web = supervisor.start({
      name: "web",
      command: node,
      args: [entries.next, "start", "--port", String(env.TRELLIS_WEB_PORT)],
      cwd: entries.webDir,
      env: { ...childEnv, TRELLIS_INGEST_URL: ingestUrl, TRELLIS_CONTROL_PLANE_URL: env.TRELLIS_CONTROL_PLANE_URL },
      logDir,
      verbose: options.verbose,
    });
    // /api/health answers 503 until everything is up; any answer means the web server itself is serving.
    await waitUntilReady(web, `http://127.0.0.1:${env.TRELLIS_WEB_PORT}/api/health`, { accept: (status) => status === 200 || status === 503 });
    say("web", `ready ${webUrl}`);

    if (options.demo) {
      const demo = supervisor.start({
        name: "demo",
        command: node,
        args: [entries.demo],
        env: {
          ...childEnv,
          TRELLIS_OTLP_ENDPOINT: ingestUrl,
          TRELLIS_CONTROL_PLANE_URL: env.TRELLIS_CONTROL_PLANE_URL,
          TRELLIS_SIDECAR_ENTRY: entries.sidecar,
          TRELLIS_JOIN_SECRET: joinSecret,
        },
        logDir,
        ipc: true,
        verbose: options.verbose,
      });
      await waitUntilReady(demo, `http://127.0.0.1:${env.TRELLIS_GATEWAY_PORT}/`, { timeoutMs: 90_000 });
      say("demo", `ready gateway http://127.0.0.1:${env.TRELLIS_GATEWAY_PORT} (load: ${env.TRELLIS_DEMO_RPS} rps)`);
    }

    console.log(`\nTrellis is up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
    console.log(`  dashboard      ${webUrl}`);
    console.log(`  OTLP/HTTP      ${ingestUrl}  (/v1/traces, /v1/metrics, /v1/logs)`);
    console.log(`  OTLP/gRPC      127.0.0.1:${env.TRELLIS_INGEST_GRPC_PORT}`);
    console.log(`  control plane  ${env.TRELLIS_CONTROL_PLANE_URL}`);
    if (options.demo) console.log(`  demo gateway   http://127.0.0.1:${env.TRELLIS_GATEWAY_PORT}/`);
    console.log(`  logs           ${logDir}`);
    console.log("Press Ctrl-C to stop.");
  } catch (error) {
    if (error instanceof ComponentFailed) {
      console.error(`\n${error.message}; last output:\n${indent(error.component.tail())}\nfull log: ${error.component.logFile}`);
    } else if (isAppError(error)) {
      console.error(`\ntrellis up: ${error.message}`);
    } else {
      console.error("\ntrellis up failed:", error);
    }
    await shutdown(1);
  }
}

/** The HMAC secret for join tokens, created once per home directory (0600) and reused, like the CA's root. */
function readOrCreateJoinSecret(home: string): string {
  const file = join(home, "join-secret");
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AppError("CONFIG", `${file} has permissions ${mode.toString(8).padStart(4, "0")}, so other users can read the mesh's join secret; run \`chmod 600 ${file}\``);
  }
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new AppError("CONFIG", `${file} holds a join secret shorter than 32 characters; delete the file and \`trellis up\` makes a new one`);
  return secret;
}

/** Production builds of every app; Turborepo's cache makes this a no-op when nothing changed. */
function buildAll(): void {
  const started = Date.now();
  say("build", "building apps (cached after the first run)…");
  const result = spawnSync(process.execPath, [entries.turbo, "run", "build", "--output-logs=errors-only"], {
    cwd: repoRoot,
    env: inheritedEnv,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new AppError("CONFIG", "the build failed (output above); fix it or run with --no-build to use the last build");
  for (const entry of [entries.ingest, entries.controlPlane, entries.demo, entries.sidecar, join(entries.webDir, ".next/BUILD_ID")]) {
    if (!existsSync(entry)) throw new AppError("CONFIG", `${entry} is missing after the build; run \`npm run build\` and check its output`);
  }
  say("build", `ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function assertPortsFree(demo: boolean): Promise<void> {
  const ports: Array<[number, string, string]> = [
    [env.TRELLIS_WEB_PORT, "dashboard", "TRELLIS_WEB_PORT"],
    [env.TRELLIS_INGEST_PORT, "OTLP/HTTP ingest", "TRELLIS_INGEST_PORT"],
    [env.TRELLIS_INGEST_GRPC_PORT, "OTLP/gRPC ingest", "TRELLIS_INGEST_GRPC_PORT"],
    [env.TRELLIS_CONTROL_PLANE_PORT, "control plane", "TRELLIS_CONTROL_PLANE_PORT"],
  ];
  if (demo) ports.push([env.TRELLIS_GATEWAY_PORT, "demo gateway", "TRELLIS_GATEWAY_PORT"]);
  for (const [port, what, envVar] of ports) {
    if (!(await isPortFree(port))) {
      throw new AppError("CONFIG", `port ${port} (${what}) is already in use; stop what holds it (is another Trellis running?) or set ${envVar} to another port`);
    }
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
