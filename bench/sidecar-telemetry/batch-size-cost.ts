// CPU per span and per access-log record of the sidecar's export pipeline (records encoded into the pending batch,
// sealed, POSTed: export-queue.ts, the same parts createSpanExport / createAccessLog put together) at several
// batch sizes: what chose SPAN_BATCH_SIZE and LOG_BATCH_SIZE. The OTLP sink runs in a child process.
// Run: npx tsx bench/sidecar-telemetry/batch-size-cost.ts
import { spawn } from "node:child_process";
import { encodeResource, encodeScope, startLogsBatch, startTraceBatch, type RecordBatch } from "@trellis/otlp/encode";
import { createExportQueue, type WriteRecord } from "../../apps/sidecar/src/telemetry/export-queue.ts";
import { LOGGER_NAME, writeRequestLog } from "../../apps/sidecar/src/telemetry/log-export.ts";
import { createOtlpPoster } from "../../apps/sidecar/src/telemetry/otlp-exporters.ts";
import { HttpSpan, TRACER_NAME, writeSpan } from "../../apps/sidecar/src/telemetry/traces.ts";
import { benchPath, makeBenchRecord } from "./bench-record.ts";
import { BENCH_SPAN_CONTEXT, resource } from "./sdk-path.ts";

const N = 40_960;
const resourceField = encodeResource(resource.attributes);

const code = `require("http").createServer((q, s) => { q.resume(); q.on("end", () => { s.writeHead(200); s.end(); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
const sink = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "ignore"] });
process.once("exit", () => sink.kill());
const port = await new Promise<string>((resolve) => sink.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function run<R>(signal: "traces" | "logs", batchSize: number, count: number, startBatch: (bytes: number) => RecordBatch, write: WriteRecord<R>, make: (i: number) => R): Promise<number> {
  const queue = createExportQueue({ poster: createOtlpPoster({ url: `http://127.0.0.1:${port}/v1/${signal}` }), startBatch, onDrop: () => {}, capacity: 8_192, batchSize });
  const start = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    queue.append(write, make(i));
    if (i % 64 === 63) await yieldToLoop();
  }
  await queue.shutdown();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const traceFraming = { resource: resourceField, scope: encodeScope(TRACER_NAME) };
const logFraming = { resource: resourceField, scope: encodeScope(LOGGER_NAME) };
const spans = (batchSize: number, count: number) =>
  run("traces", batchSize, count, (bytes) => startTraceBatch(traceFraming, bytes), writeSpan, (i) => {
    const span = new HttpSpan({ kind: "client", method: "GET", path: benchPath(i), serverAddress: "cart", upstreamService: "cart", parent: null }, 1);
    const r = makeBenchRecord(i, span);
    span.end({ status: r.status, flag: null, record: r });
    return span;
  });
const logs = (batchSize: number, count: number) => run("logs", batchSize, count, (bytes) => startLogsBatch(logFraming, bytes), writeRequestLog, (i) => makeBenchRecord(i, BENCH_SPAN_CONTEXT));

const sizes = [128, 256, 512, 1024];
// Warm-up, then interleaved rounds.
for (const size of sizes) {
  await spans(size, 8_192);
  await logs(size, 8_192);
}
for (let round = 1; round <= 3; round += 1) {
  const line = async (name: string, measure: (size: number, count: number) => Promise<number>) => {
    const results: string[] = [];
    for (const size of sizes) results.push(`${size}: ${(await measure(size, N)).toFixed(2)}`);
    console.log(`${name} (r${round}), µs CPU / record by batch size   ${results.join("   ")}`);
  };
  await line("spans", spans);
  await line("logs ", logs);
}
process.exit(0);
