// CPU per span and per access-log record through the whole export pipeline, in one process, alternating: the SDK
// path the sidecar ran before (sdk-path.ts: SDK span / log record → batch processor → encodeTraceExport /
// encodeLogsExport → POST) against the current one (a span object / the RequestRecord encoded straight into the
// pending batch → sealed → POST, telemetry/traces.ts and log-export.ts, at the sidecar's batch sizes). Also: the longest synchronous telemetry
// call the request path makes (span end, log emit, with any export it sets off), the longest export() call of the
// SDK path, and the GC time of each run. The OTLP sink runs in a child process so its CPU is not counted.
// Run: npx tsx bench/sidecar-telemetry/export-pipeline-cost.ts
import { spawn } from "node:child_process";
import { PerformanceObserver } from "node:perf_hooks";
import { encodeResource } from "@trellis/otlp/encode";
import { createAccessLog, LOG_BATCH_SIZE } from "../../apps/sidecar/src/telemetry/log-export.ts";
import { createSpanExport, SPAN_BATCH_SIZE } from "../../apps/sidecar/src/telemetry/traces.ts";
import { makeBenchRecord } from "./bench-record.ts";
import { BENCH_SPAN_CONTEXT, createSdkLogPath, createSdkSpanPath, emitSdkLog, recordSdkSpan, resource } from "./sdk-path.ts";

const N = 20_480;
const resourceField = encodeResource(resource.attributes);

async function startSink(): Promise<{ url: string; stop: () => void }> {
  const code = `require("http").createServer((q, s) => { q.resume(); q.on("end", () => { s.writeHead(200, { "content-type": "application/x-protobuf" }); s.end(); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "ignore"] });
  // Never outlive this script (a crash included).
  process.once("exit", () => child.kill());
  const port = await new Promise<string>((resolve) => child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ["gc"] });

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Result = { us: number; longestCallMs: number; longestExportMs: number | null; gcMs: number };

/**
 * `count` records through `record`, yielding to the loop every 64 (as a server between requests) so exports run
 * as they would in the sidecar; the final flush is counted. Each call is timed for the longest one.
 */
async function run(count: number, record: (i: number) => void, flush: () => Promise<void>, exportTimer?: { longestMs: number }): Promise<Result> {
  let longestCallMs = 0;
  const gcBefore = gcMs;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const t0 = performance.now();
    record(i);
    const took = performance.now() - t0;
    if (took > longestCallMs) longestCallMs = took;
    if (i % 64 === 63) await yieldToLoop();
  }
  await flush();
  const used = process.cpuUsage(start);
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { us: (used.user + used.system) / count, longestCallMs, longestExportMs: exportTimer?.longestMs ?? null, gcMs: gcMs - gcBefore };
}

function sdkSpans(url: string, count: number): Promise<Result> {
  const timer = { longestMs: 0 };
  const path = createSdkSpanPath(url, timer);
  return run(count, (i) => recordSdkSpan(path.tracer, makeBenchRecord(i)), path.shutdown, timer);
}

function ownSpans(url: string, count: number): Promise<Result> {
  const spans = createSpanExport({ resource: resourceField, otlpEndpoint: url, otlpHeaders: {}, samplingRatio: 1, onDrop: () => {} });
  return run(
    count,
    (i) => {
      const r = makeBenchRecord(i);
      const span = spans.start({ kind: "client", method: "GET", path: r.path, serverAddress: "cart", upstreamService: "cart", parent: null });
      spans.end(span, { status: r.status, flag: null, record: r });
    },
    spans.shutdown,
  );
}

function sdkLogs(url: string, count: number): Promise<Result> {
  const timer = { longestMs: 0 };
  const path = createSdkLogPath(url, timer);
  return run(count, (i) => emitSdkLog(path.logger, makeBenchRecord(i)), path.shutdown, timer);
}

function ownLogs(url: string, count: number): Promise<Result> {
  const accessLog = createAccessLog({ resource: resourceField, otlpEndpoint: url, otlpHeaders: {}, onDrop: () => {} });
  return run(count, (i) => accessLog.recordRequest(makeBenchRecord(i, BENCH_SPAN_CONTEXT)), accessLog.shutdown);
}

const report = (name: string, r: Result) =>
  console.log(
    `${name.padEnd(44)} ${r.us.toFixed(2).padStart(6)} µs CPU / record   longest call ${r.longestCallMs.toFixed(2).padStart(5)} ms` +
      `${r.longestExportMs === null ? "" : `   longest export() ${r.longestExportMs.toFixed(2)} ms`}   GC ${r.gcMs.toFixed(0)} ms`,
  );

const sink = await startSink();
const traces = `${sink.url}/v1/traces`;
// Warm-up of every path, then interleaved rounds.
await sdkSpans(traces, 4_096);
await ownSpans(sink.url, 4_096);
await sdkLogs(`${sink.url}/v1/logs`, 4_096);
await ownLogs(sink.url, 4_096);
for (let round = 1; round <= 3; round += 1) {
  report(`spans, SDK path, batches of 256 (r${round})`, await sdkSpans(traces, N));
  report(`spans, direct encoding, batches of ${SPAN_BATCH_SIZE} (r${round})`, await ownSpans(sink.url, N));
  report(`logs, SDK path, batches of 256 (r${round})`, await sdkLogs(`${sink.url}/v1/logs`, N));
  report(`logs, direct encoding, batches of ${LOG_BATCH_SIZE} (r${round})`, await ownLogs(sink.url, N));
}
sink.stop();
process.exit(0);
