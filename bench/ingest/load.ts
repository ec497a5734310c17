// The load side of the ingest benchmark: POSTs pre-serialized OTLP/protobuf batches over keep-alive connections,
// closed-loop (as fast as the answers come: the maximum rate) or open-loop at a fixed rate (latency timed from each
// request's scheduled send, so a slow answer does not hide the requests queued behind it).
import { Agent, request } from "node:http";

export type Batch = { body: Uint8Array; spans: number };

export type LoadResult = {
  seconds: number;
  requests: number;
  spansAcked: number;
  failures: Record<string, number>;
  latenciesMs: number[];
};

export type LoadOptions = { url: string; batches: Batch[]; seconds: number };

/** Takes each batch once, in order: every request stores new spans. */
function batchSource(batches: Batch[]): () => Batch | undefined {
  let next = 0;
  return () => batches[next++];
}

export async function closedLoop({ url, batches, seconds, connections }: LoadOptions & { connections: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const take = batchSource(batches);
  const result = emptyResult();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let batch = take(); batch && performance.now() < deadline; batch = take()) {
        const sent = performance.now();
        await send(url, agent, batch, result, sent);
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

export async function openLoop({ url, batches, seconds, spansPerSecond }: LoadOptions & { spansPerSecond: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const take = batchSource(batches);
  const result = emptyResult();
  const intervalMs = 1000 / (spansPerSecond / (batches[0]?.spans ?? 512));
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; ; i++) {
    const scheduled = started + i * intervalMs;
    if (scheduled > started + seconds * 1000) break;
    const batch = take();
    if (!batch) throw new Error(`open loop ran out of batches after ${i}; generate more`);
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(url, agent, batch, result, scheduled));
  }
  await Promise.all(inFlight);
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

function send(url: string, agent: Agent, batch: Batch, result: LoadResult, sentAt: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/v1/traces`,
      { method: "POST", agent, headers: { "Content-Type": "application/x-protobuf", "Content-Length": batch.body.byteLength } },
      (res) => {
        res.resume();
        res.on("end", () => {
          result.requests += 1;
          if (res.statusCode === 200) {
            result.spansAcked += batch.spans;
            result.latenciesMs.push(performance.now() - sentAt);
          } else {
            const key = String(res.statusCode);
            result.failures[key] = (result.failures[key] ?? 0) + 1;
          }
          resolve();
        });
      },
    );
    req.on("error", (error) => {
      result.failures[error.message] = (result.failures[error.message] ?? 0) + 1;
      resolve();
    });
    req.end(batch.body);
  });
}

function emptyResult(): LoadResult {
  return { seconds: 0, requests: 0, spansAcked: 0, failures: {}, latenciesMs: [] };
}

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
