// The sidecar benchmark (issue 4): direct vs an nginx pair vs a Trellis pair to the same 1 KB app, in one run —
// latency at a fixed 1,000 rps, saturated throughput with one core per proxy, CPU per 1,000 rps and RSS per proxy —
// with a Node byte-relay pair beside them as the floor any Node proxy stands on (relay.ts).
// Loopback only; stops by itself within ~4 minutes; writes bench/results/sidecar.{json,md}.
import { execSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, startEnvironment, type BenchEnvironment } from "../control-plane/environment.ts";
import { describeMachine } from "../control-plane/report.ts";
import { BODY_BYTES, BODY_PATH, startApp, startNginxPair } from "./nginx.ts";
import { measure } from "./measure.ts";
import { assertRunning, checkTools, sleep } from "./processes.ts";
import { startRelayPair } from "./relay.ts";
import { GOALS, writeResults, type Results } from "./report.ts";
import { buildSidecar, startOtlpSink, startTrellisPair } from "./trellis.ts";
import { writeWrkScript } from "./wrk.ts";

const DEADLINE_MS = 240_000;
/** The caller-side proxy on core 0, the app-side proxy on core 1 (nginx's and Trellis's alike). */
const PROXY_CPUS: [number, number] = [0, 1];

const log = (line: string) => console.log(`bench sidecar: ${line}`);

function describeCode(): Results["code"] {
  const git = (args: string) => execSync(`git ${args}`, { cwd: repoRoot, encoding: "utf8" }).trim();
  try {
    // The results this benchmark writes itself (an earlier run's) are not work in progress.
    const changed = git("status --porcelain").split("\n").filter((line) => line !== "" && !line.includes("bench/results/"));
    return { head: git("rev-parse --short HEAD"), uncommittedFiles: changed.length };
  } catch {
    return { head: "unknown", uncommittedFiles: 0 };
  }
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench sidecar: still running after ${DEADLINE_MS / 1000} s; giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  checkTools();
  const started = Date.now();
  const machine = describeMachine();
  const code = describeCode();
  const dir = mkdtempSync(join(tmpdir(), "trellis-bench-sidecar-"));
  chmodSync(dir, 0o755);
  // TRELLIS_BENCH_KEEP_LOGS=1 keeps the run's directory (the sidecars' logs, e.g. with --trace-gc in the node flags).
  const keep = process.env.TRELLIS_BENCH_KEEP_LOGS === "1";
  const cleanups: Array<() => Promise<unknown> | void> = [() => (keep ? log(`logs kept in ${dir}`) : rmSync(dir, { recursive: true, force: true }))];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  let env: BenchEnvironment | null = null;
  try {
    const app = await startApp(dir);
    cleanups.push(app.child.stop);
    const nginx = await startNginxPair(dir, app.port, PROXY_CPUS);
    cleanups.push(nginx.client.stop, nginx.server.stop);
    const relay = await startRelayPair(dir, app.port, PROXY_CPUS);
    cleanups.push(relay.client.stop, relay.server.stop);
    log(`app (nginx, 1 KB) on :${app.port}; nginx pair on :${nginx.port}; node relay pair on :${relay.port}`);

    env = await startEnvironment(log);
    cleanups.push(env.stop);
    buildSidecar(log);
    const sink = await startOtlpSink();
    cleanups.push(sink.close);
    const trellis = await startTrellisPair({ env, dir, appPort: app.port, otlpUrl: sink.url, cpus: PROXY_CPUS });
    // The app's sidecar stops before the caller's, so the caller's last exports are not refused.
    for (const sidecar of [trellis.client, trellis.server]) {
      cleanups.push(async () => {
        const outcome = await sidecar.stop();
        const lines = readFileSync(sidecar.logFile, "utf8").split("\n");
        log(`${sidecar.name} stopped on SIGTERM: ${outcome} (${lines.find((line) => line.includes("drained and flushed")) ?? "no drain line in its log"})`);
        if (!outcome.startsWith("exit 0")) console.error(lines.slice(-15).join("\n"));
      });
    }
    log(`Trellis pair on :${trellis.port} (caller sidecar pid ${trellis.client.pid}, app-side sidecar pid ${trellis.server.pid}); ${trellis.hopCheck}`);
    await sleep(1_000); // first exports and the startup garbage settle before the idle reading

    const script = writeWrkScript(dir);
    const figures = await measure(
      [
        { path: "direct", url: `http://127.0.0.1:${app.port}${BODY_PATH}`, pair: null },
        { path: "nginx", url: `http://127.0.0.1:${nginx.port}${BODY_PATH}`, pair: nginx },
        { path: "relay", url: `http://127.0.0.1:${relay.port}${BODY_PATH}`, pair: relay },
        { path: "trellis", url: `http://127.0.0.1:${trellis.port}${BODY_PATH}`, pair: trellis },
      ],
      script,
      log,
    );
    for (const child of [app.child, nginx.client, nginx.server, relay.client, relay.server, trellis.client, trellis.server]) assertRunning(child);
    await sleep(1_500); // one more export interval, so the sink's count includes the load's telemetry
    const telemetry = sink.received();
    const cores = cpus().length;
    const results: Results = {
      benchmark: "sidecar",
      date: new Date().toISOString(),
      machine,
      loadAverageAtEnd: loadavg().map((n) => Math.round(n * 100) / 100),
      code,
      layout: `${cores} cores. The caller-side proxy (nginx worker + master, or the caller's sidecar process) is pinned to core ${PROXY_CPUS[0]} and the app-side proxy to core ${PROXY_CPUS[1]} with taskset, for every run; wrk, the app, the control plane and Postgres are not pinned${cores <= 2 ? " and, on this 2-core machine, share those two cores with the proxies (the saturated figures are a ratio under the same contention for both pairs, not absolute capacity)" : ""}.`,
      app: `nginx (2 workers, unpinned) serving a ${BODY_BYTES}-byte file at ${BODY_PATH}: it answers in a few µs and far faster than either proxy pair, so it is never the bottleneck, and it is the same app on all three paths; a Node app would spend the same cores the proxies need and add its own GC noise to every path.`,
      mtls: { trellisHopRefusesPlaintext: trellis.hopRefusesPlaintext, check: trellis.hopCheck },
      telemetry: { otlpExports: telemetry.requests, otlpBytes: telemetry.bytes, byPath: telemetry.byPath },
      goals: GOALS,
      ...figures,
    };
    const files = writeResults(join(repoRoot, "bench/results"), results);
    const m = results.meetsGoals;
    log(`added over direct (Trellis): p50 ${results.addedOverDirectMs.trellis.p50} ms ${m.addedP50 ? "met" : "MISSED"}, p99 ${results.addedOverDirectMs.trellis.p99} ms ${m.addedP99 ? "met" : "MISSED"}`);
    log(`throughput Trellis/nginx ${results.throughputTrellisVsNginx}× ${m.throughput ? "met" : "MISSED"}; vCPU/1k rps ${JSON.stringify(results.proxies.trellis.vcpuPer1kRps)} ${m.cpu ? "met" : "MISSED"}; RSS ${JSON.stringify(results.proxies.trellis.memoryMb)} ${m.rss ? "met" : "MISSED"}`);
    log(`wrote ${files.json} and ${files.markdown} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.error(`bench sidecar: ${(error as Error).message}${env ? `\ncontrol-plane log: ${env.logFile}` : ""}\nlogs in ${dir} (kept)`);
    cleanups.shift(); // keep the directory with the logs
    await stopAll();
    process.exit(1);
  }
  await stopAll();
}

await main();
