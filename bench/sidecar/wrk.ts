// Load from wrk, in two modes. Fixed rate: wrk's Lua `delay()` makes each connection wait before its next request,
// so 16 connections send ~1,000 requests per second whatever the latency (open-ish loop: the pacing does not speed
// up when answers are slow, and latency is timed from each request's send). Saturated: plain closed-loop wrk.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TOOLS } from "./processes.ts";

export type WrkResult = {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency in ms, from wrk's own histogram. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  errors: { connect: number; read: number; write: number; timeout: number; non2xx: number };
};

/**
 * delay() takes whole milliseconds. Cycling 16, 16, 15 ms is a 15.67 ms gap, which with ~0.3 ms of latency on top
 * is ~1,000 rps over 16 connections; the achieved rate is reported next to every figure.
 */
const SCRIPT = `
local paced = os.getenv("WRK_PACED") == "1"
local n = 0
local gaps = { 16, 16, 15 }
if paced then
  function delay()
    n = n + 1
    return gaps[(n % 3) + 1]
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT {\\"requests\\":%d,\\"durationUs\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"p999\\":%d,\\"max\\":%d,\\"mean\\":%f,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"timeout\\":%d,\\"status\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, e.connect, e.read, e.write, e.timeout, e.status))
end
`;

export function writeWrkScript(dir: string): string {
  const file = join(dir, "bench.lua");
  writeFileSync(file, SCRIPT);
  return file;
}

export async function runWrk(options: { script: string; url: string; connections: number; threads: number; seconds: number; paced: boolean }): Promise<WrkResult> {
  const args = ["-t", String(options.threads), "-c", String(options.connections), "-d", `${options.seconds}s`, "--timeout", "5s", "-s", options.script, options.url];
  const child = spawn(TOOLS.wrk, args, { env: { ...process.env, WRK_PACED: options.paced ? "1" : "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const line = /WRK_RESULT (\{.*\})/.exec(output)?.[1];
  if (code !== 0 || line === undefined) throw new Error(`wrk ${args.join(" ")} failed (exit ${String(code)}):\n${output}`);
  const raw = JSON.parse(line) as Record<string, number>;
  const n = (key: string) => raw[key] ?? NaN;
  const ms = (key: string) => Math.round(n(key)) / 1000;
  const durationS = n("durationUs") / 1e6;
  return {
    requests: n("requests"),
    durationS: Math.round(durationS * 100) / 100,
    rps: Math.round(n("requests") / durationS),
    latencyMs: { p50: ms("p50"), p90: ms("p90"), p99: ms("p99"), p999: ms("p999"), max: ms("max"), mean: Math.round(n("mean")) / 1000 },
    errors: { connect: n("connect"), read: n("read"), write: n("write"), timeout: n("timeout"), non2xx: n("status") },
  };
}

export function failedRequests(result: WrkResult): number {
  const e = result.errors;
  return e.connect + e.read + e.write + e.timeout + e.non2xx;
}
