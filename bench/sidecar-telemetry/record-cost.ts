// CPU per request of the sidecar's telemetry as the data path calls it: recordRequest (Istio metrics pre-aggregated
// in place + one access-log record) and a client span, against the budget of ≤ ~15 µs per request at 1,000 rps.
// Run: npx tsx bench/sidecar-telemetry/record-cost.ts   (exports go to a loopback sink in a child process)
import { spawn } from "node:child_process";
import { createTelemetry, type Telemetry } from "../../apps/sidecar/src/telemetry/index.ts";
import { benchPath, makeBenchRecord } from "./bench-record.ts";

const record = makeBenchRecord;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * CPU of `iterations` requests, including the batches they fill being encoded and sent: the loop yields every 64
 * requests (as a server between requests) so the batch processors export while it runs, and the final flush is
 * counted. `make` builds a fresh Telemetry; a first one is used for warm-up only.
 */
async function measure(name: string, iterations: number, make: () => Telemetry, fn: (t: Telemetry, i: number) => void, warmUp = 4_096): Promise<void> {
  const warm = make();
  for (let i = 0; i < warmUp; i += 1) {
    fn(warm, i);
    if (i % 64 === 63) await yieldToLoop();
  }
  await warm.shutdown(2_000);
  const t = make();
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i += 1) {
    fn(t, i);
    if (i % 64 === 63) await yieldToLoop();
  }
  await t.shutdown(5_000);
  const used = process.cpuUsage(start);
  console.log(`${name}: ${((used.user + used.system) / iterations).toFixed(2)} µs CPU per request`);
}

const identity = { service: "checkout", namespace: "shop", version: "v1", workload: "checkout-v1" };
// A loopback sink in a child process (its CPU is not counted) answers every export, as a collector would.
const sinkCode = `require("http").createServer((q, s) => { q.resume(); q.on("end", () => { s.writeHead(200); s.end(); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
const sink = spawn(process.execPath, ["-e", sinkCode], { stdio: ["ignore", "pipe", "ignore"] });
// Never outlive this script (a crash included).
process.once("exit", () => sink.kill());
const port = await new Promise<string>((resolve) => sink.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
const endpoint = `http://127.0.0.1:${port}`;
const N = 20_000;
await measure("metrics only (recordRequest, access log off)", 200_000, () => createTelemetry({ identity, otlpEndpoint: endpoint, settings: { accessLog: false, traceSampling: 0 } }), (t, i) => t.recordRequest(record(i)), 20_000);
await measure("metrics + access-log record", N, () => createTelemetry({ identity, otlpEndpoint: endpoint, settings: { traceSampling: 0 } }), (t, i) => t.recordRequest(record(i)));
await measure("metrics + access log + sampled client span", N, () => createTelemetry({ identity, otlpEndpoint: endpoint }), (t, i) => {
  const span = t.startHttpSpan({ kind: "client", method: "GET", path: benchPath(i), serverAddress: "cart", upstreamService: "cart", parent: null });
  t.inject(span, {});
  const r = record(i, span);
  t.endHttpSpan(span, { status: r.status, flag: null, record: r });
  t.recordRequest(r);
});
sink.kill();
process.exit(0);
