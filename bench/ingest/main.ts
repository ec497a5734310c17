// `npm run bench -- ingest`: OTLP in → spans committed in Postgres, next to the limit measured in the same run (a raw
// COPY of the same rows into the same table), then decode rates and the query goals.
//
// 1. A fresh database, migrated, and the built ingest as a child process. With the embedded Postgres (the default;
//    DATABASE_URL points at a server we cannot pin) Postgres gets CPU 0 and ingest plus this load generator CPU 1,
//    in both the ingest runs and the raw COPY: each side has the same one core throughout, so the ratio compares
//    like with like, and "spans per ingest core" is what ingest did with its core.
// 2. Batches as SDKs send them: 512 spans of ~15 attributes, serialized by the official OTLP serializer, each sent
//    once (new ids every request).
// 3. Maximum rate: closed loop, 8 connections. Then 80% of it, open loop, for the p99 request latency.
// 4. Raw COPY of the same spans, pre-formatted, over the same 8 connections into the emptied table.
// Flags: --skip-queries (the 10M-span query seeding takes minutes), --seconds N (per phase, default 10).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, findFreePort, migrate } from "@trellis/db";
import { decodeTraceRequest } from "@trellis/otlp";
import { freshDatabase, repoRoot } from "../control-plane/environment.ts";
import { TOOLS, cpuSeconds, memoryMb, processTree, round1, sleep, startChild, waitUntil } from "../sidecar/processes.ts";
import { benchDecode, makeTraceBatch } from "./decode.mjs";
import { closedLoop, openLoop, percentile, type Batch, type LoadResult } from "./load.ts";
import { rawCopy, toCopyText } from "./raw-copy.ts";

const GOALS = { spansPerCore: 25_000, vsCopy: 0.5, p99Ms: 200, graphP95Ms: 150, traceGetP95Ms: 20 } as const;
const CONNECTIONS = 8;
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf("--seconds") + 1] ?? 0) || 10;
const skipQueries = args.includes("--skip-queries");
const log = (line: string) => console.log(`[bench ingest] ${line}`);

const workDir = mkdtempSync(join(tmpdir(), "trellis-bench-ingest-"));
chmodSync(workDir, 0o755);
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(workDir, { recursive: true, force: true })];
try {
  const databaseUrl = await freshDatabase(workDir, cleanups, log);
  const postmaster = postmasterPid(join(workDir, "pgdata"));
  const pinned = postmaster ? pinPostgres(postmaster, 0) : 0;
  log(pinned ? `Postgres pinned to CPU 0 (${pinned} processes); ingest and the load generator on CPU 1` : "Postgres is not ours to pin (DATABASE_URL): it floats over both cores");
  if (pinned) spawnSync(TOOLS.taskset, ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  const db = await connectDatabase({ url: databaseUrl, source: "the benchmark database", max: CONNECTIONS + 2 });
  cleanups.push(() => db.close());
  await migrate({ pool: db.pool });

  log("building apps/ingest (esbuild)…");
  if (spawnSync(process.execPath, ["../../scripts/build-node-app.mjs"], { cwd: join(repoRoot, "apps/ingest"), stdio: "inherit" }).status !== 0) {
    throw new Error("building ingest failed (output above)");
  }
  const [port, grpcPort] = [await findFreePort(), await findFreePort()];
  // TRELLIS_BENCH_INGEST_NODE_FLAGS: extra node flags for ingest, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeFlags = (process.env.TRELLIS_BENCH_INGEST_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const ingest = startChild("ingest", process.execPath, [...nodeFlags, join(repoRoot, "apps/ingest/dist/main.js")], {
    cpu: 1,
    logFile: join(workDir, "ingest.log"),
    env: { DATABASE_URL: databaseUrl, TRELLIS_INGEST_PORT: String(port), TRELLIS_INGEST_GRPC_PORT: String(grpcPort) },
  });
  cleanups.push(async () => void (await ingest.stop()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil("ingest /healthz", async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok === true);

  const needed = Math.ceil((seconds * 60_000) / 512) + 40; // room for ~60k spans/s in each phase
  log(`making ${needed * 2} batches of 512 spans with the OpenTelemetry SDK…`);
  let made = 0;
  const makeBatches = (n: number): Batch[] => Array.from({ length: n }, () => makeTraceBatch(made++, Date.now() - 60_000)).map((b) => ({ body: b.body, spans: b.count }));
  const warmup = makeBatches(40);
  const maxBatches = makeBatches(needed);
  const steadyBatches = makeBatches(needed);

  const warm = await closedLoop({ url, batches: warmup, seconds: 5, connections: CONNECTIONS });
  const max = await measured(ingest.pid, postmaster, () => closedLoop({ url, batches: maxBatches, seconds, connections: CONNECTIONS }));
  log(`maximum: ${Math.round(max.load.spansAcked / max.load.seconds)} spans/s, ingest CPU ${round1(max.cpu)} core, Postgres ${max.pgMicrosPerSpan ?? "?"} µs CPU per span, p99 ${round1(percentile(max.load.latenciesMs, 0.99))} ms`);
  const steadyRate = Math.round((0.8 * max.load.spansAcked) / max.load.seconds);
  await sleep(2000);
  const steady = await measured(ingest.pid, postmaster, () => openLoop({ url, batches: steadyBatches, seconds, spansPerSecond: steadyRate }));
  log(`80%: ${steadyRate} spans/s offered, ${Math.round(steady.load.spansAcked / steady.load.seconds)} acked/s, p99 ${round1(percentile(steady.load.latenciesMs, 0.99))} ms`);
  const stored = Number((await db.pool.query("SELECT count(*) AS n FROM spans")).rows[0].n);
  const acked = warm.spansAcked + max.load.spansAcked + steady.load.spansAcked;
  const ingestMemory = memoryMb([ingest.pid]);
  await ingest.stop();

  log("raw COPY of the same spans into the emptied table…");
  await db.pool.query("TRUNCATE spans");
  const copyTexts = maxBatches.map((b) => toCopyText(decodeTraceRequest(b.body, "protobuf").spans));
  const pgBeforeCopy = postgresCpu(postmaster);
  const copy = await rawCopy(db.pool, copyTexts, CONNECTIONS, 512);
  const pgAfterCopy = postgresCpu(postmaster);
  const copyPgMicrosPerSpan = pgBeforeCopy === null || pgAfterCopy === null ? null : Math.round(((pgAfterCopy - pgBeforeCopy) * 1e6) / (copyTexts.length * 512));
  log(`raw COPY: ${Math.round(copy.spansPerSecond)} spans/s, Postgres ${copyPgMicrosPerSpan ?? "?"} µs CPU per span`);

  log("decode rates (one core)…");
  const decode = await benchDecode({ log });
  const queries: QueryFigures | null = skipQueries ? null : await (await import("./queries.mjs")).benchQueries({ pool: db.pool, log });

  const maxRate = max.load.spansAcked / max.load.seconds;
  const results: Results = {
    date: new Date().toISOString(),
    code: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).stdout.trim(),
    seconds,
    connections: CONNECTIONS,
    maximum: { ...summary(max.load, max.cpu), postgresMicrosPerSpan: max.pgMicrosPerSpan },
    spansPerIngestCore: Math.round(maxRate / Math.max(max.cpu, 1e-9)),
    steady: { offeredSpansPerSecond: steadyRate, ...summary(steady.load, steady.cpu) },
    rawCopySpansPerSecond: Math.round(copy.spansPerSecond),
    rawCopyPostgresMicrosPerSpan: copyPgMicrosPerSpan,
    vsRawCopy: Math.round((maxRate / copy.spansPerSecond) * 100) / 100,
    storedExactlyOnce: { acked, stored },
    ingestMemoryMb: ingestMemory,
    decode,
    queries,
  };
  const goals = {
    spansPerCore: results.spansPerIngestCore >= GOALS.spansPerCore,
    vsCopy: results.vsRawCopy >= GOALS.vsCopy,
    p99: results.steady.p99Ms <= GOALS.p99Ms,
    graph: queries ? queries.graphP95 <= GOALS.graphP95Ms : null,
    traceGet: queries ? queries.traceGetP95 <= GOALS.traceGetP95Ms : null,
  };
  const dir = join(repoRoot, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "ingest.json"), `${JSON.stringify({ ...results, goals }, null, 2)}\n`);
  writeFileSync(join(dir, "ingest.md"), report(results, goals));
  log(`results: bench/results/ingest.md`);
  if (stored !== acked) throw new Error(`spans acknowledged ${acked} but stored ${stored}: something was lost or stored twice`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

function postmasterPid(dataDir: string): number | null {
  const pidFile = join(dataDir, "postmaster.pid");
  return existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : null;
}

/** CPU seconds the embedded Postgres (all its processes) has used so far; null when it is not ours. */
function postgresCpu(postmaster: number | null): number | null {
  if (postmaster === null) return null;
  const { user, system } = cpuSeconds(processTree(postmaster));
  return user + system;
}

/**
 * Pins the embedded Postgres (postmaster and its processes; backends forked later inherit it) to one CPU. Returns
 * how many processes were pinned, 0 when there is no embedded server here.
 */
function pinPostgres(postmaster: number, cpu: number): number {
  const pids = processTree(postmaster);
  for (const pid of pids) spawnSync(TOOLS.taskset, ["-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
  return pids.length;
}

async function measured(pid: number, postmaster: number | null, run: () => Promise<LoadResult>): Promise<{ load: LoadResult; cpu: number; pgMicrosPerSpan: number | null }> {
  const before = cpuSeconds([pid]);
  const pgBefore = postgresCpu(postmaster);
  const load = await run();
  const after = cpuSeconds([pid]);
  const pgAfter = postgresCpu(postmaster);
  const pgMicrosPerSpan = pgBefore === null || pgAfter === null ? null : Math.round(((pgAfter - pgBefore) * 1e6) / Math.max(load.spansAcked, 1));
  return { load, cpu: (after.user + after.system - before.user - before.system) / load.seconds, pgMicrosPerSpan };
}

function summary(load: LoadResult, cpu: number) {
  return {
    spansPerSecond: Math.round(load.spansAcked / load.seconds),
    requests: load.requests,
    failures: load.failures,
    p50Ms: round1(percentile(load.latenciesMs, 0.5)),
    p99Ms: round1(percentile(load.latenciesMs, 0.99)),
    maxMs: round1(percentile(load.latenciesMs, 1)),
    ingestCpuCores: Math.round(cpu * 100) / 100,
  };
}

type Summary = ReturnType<typeof summary>;
type QueryFigures = Awaited<ReturnType<typeof import("./queries.mjs").benchQueries>>;
type Results = {
  date: string;
  code: string;
  seconds: number;
  connections: number;
  maximum: Summary & { postgresMicrosPerSpan: number | null };
  spansPerIngestCore: number;
  steady: Summary & { offeredSpansPerSecond: number };
  rawCopySpansPerSecond: number;
  rawCopyPostgresMicrosPerSpan: number | null;
  vsRawCopy: number;
  storedExactlyOnce: { acked: number; stored: number };
  ingestMemoryMb: ReturnType<typeof memoryMb>;
  decode: Awaited<ReturnType<typeof benchDecode>>;
  queries: QueryFigures | null;
};

function report(r: Results, goals: Record<string, boolean | null>): string {
  const mark = (ok: boolean | null | undefined) => (ok === null || ok === undefined ? "not run" : ok ? "✅" : "❌");
  const q = r.queries;
  return `# Ingest benchmark

\`npm run bench -- ingest\` — ${r.date} — code: ${r.code}

| | goal | result | |
|---|---|---|---|
| spans committed per second per ingest core | ≥ ${GOALS.spansPerCore.toLocaleString("en")} | ${r.spansPerIngestCore.toLocaleString("en")} (${r.maximum.spansPerSecond.toLocaleString("en")} spans/s on ${r.maximum.ingestCpuCores} core) | ${mark(goals.spansPerCore)} |
| vs raw COPY of the same rows into the same table | ≥ 0.5× | ${r.vsRawCopy}× (COPY: ${r.rawCopySpansPerSecond.toLocaleString("en")} spans/s) | ${mark(goals.vsCopy)} |
| p99 request latency at 80% of the maximum rate | ≤ ${GOALS.p99Ms} ms | ${r.steady.p99Ms} ms (p50 ${r.steady.p50Ms}, max ${r.steady.maxMs}) | ${mark(goals.p99)} |
| topology.graph, 1 h, 1,000 services / 5,000 edges, p95 | ≤ ${GOALS.graphP95Ms} ms | ${q ? `${q.graphP95} ms (p50 ${q.graphP50})` : "not run (--skip-queries)"} | ${mark(goals.graph)} |
| traces.get with 10M spans stored, p95 | ≤ ${GOALS.traceGetP95Ms} ms | ${q ? `${q.traceGetP95} ms (p50 ${q.traceGetP50})` : "not run"} | ${mark(goals.traceGet)} |

${q ? `topology.graph over the last hour reads red_last_hour (one row per edge, slid every second by ingest); over an hour that does not end now (an hour ending 5 minutes ago) it reads the minute rollups: p95 ${q.pastHourGraphP95} ms (p50 ${q.pastHourGraphP50}). The last 15 minutes (minute rollups, 16 rows per edge): p95 ${q.quarterGraphP95} ms (p50 ${q.quarterGraphP50}).` : ""}

Every span acknowledged was stored exactly once: ${r.storedExactlyOnce.acked.toLocaleString("en")} acknowledged, ${r.storedExactlyOnce.stored.toLocaleString("en")} rows.

## Runs (${r.seconds} s each, ${r.connections} keep-alive connections, 512-span OTLP/protobuf batches)

| run | spans/s | requests | failed | p50 ms | p99 ms | max ms | ingest CPU (cores) |
|---|---|---|---|---|---|---|---|
| maximum (closed loop) | ${r.maximum.spansPerSecond} | ${r.maximum.requests} | ${JSON.stringify(r.maximum.failures)} | ${r.maximum.p50Ms} | ${r.maximum.p99Ms} | ${r.maximum.maxMs} | ${r.maximum.ingestCpuCores} |
| 80% (open loop, ${r.steady.offeredSpansPerSecond} spans/s offered) | ${r.steady.spansPerSecond} | ${r.steady.requests} | ${JSON.stringify(r.steady.failures)} | ${r.steady.p50Ms} | ${r.steady.p99Ms} | ${r.steady.maxMs} | ${r.steady.ingestCpuCores} |
| raw COPY (the limit) | ${r.rawCopySpansPerSecond} | | | | | | |

Postgres CPU per span stored: ${r.maximum.postgresMicrosPerSpan ?? "?"} µs through ingest (spans, trace summaries, rollups, idempotency) vs ${r.rawCopyPostgresMicrosPerSpan ?? "?"} µs for the raw COPY.

Ingest memory after the runs: RSS ${r.ingestMemoryMb.rssMb} MB (peak ${r.ingestMemoryMb.hwmMb} MB).

## Decoding (one core, CPU time; bench/ingest/decode.mjs)

| signal | records/s | bytes/record |
|---|---|---|
| traces | ${r.decode.spansPerSecond} | ${r.decode.bytesPerSpan} |
| logs | ${r.decode.logRecordsPerSecond} | ${r.decode.bytesPerLogRecord} |
| metrics | ${r.decode.dataPointsPerSecond} | ${r.decode.bytesPerDataPoint} |
${q ? `\n## Queries (bench/ingest/queries.mjs)\n\n${"```"}\n${JSON.stringify(q, null, 2)}\n${"```"}\n` : ""}
## Method

Ingest runs as the built \`apps/ingest/dist/main.js\`, pinned to CPU 1 with taskset; its CPU time comes from
/proc/<pid>/stat over each run, so spans per ingest core = spans/s ÷ cores used. The embedded Postgres is pinned to
CPU 0 and the load generator (this process) to CPU 1, for the ingest runs and the raw COPY alike: Postgres has the
same one core when it takes ingest's writes as when it takes the raw COPY. Latency in the open-loop run is timed
from each request's scheduled send. The raw COPY takes the spans of the maximum run, decoded and formatted
beforehand, so it measures Postgres alone.
`;
}
