// The measurements, interleaved so that a burst of other work on the machine lands on every path alike rather than
// on one: fixed-rate rounds (direct, nginx, Trellis, direct, …; median of each percentile over the rounds, CPU summed
// over them) and saturated rounds (best round per path), with each proxy's CPU and memory read from /proc.
import { cpuSeconds, memoryMb, processTree, round2, type Child, type CpuTime, type Memory } from "./processes.ts";
import { GOALS, type MemoryFigures, type Path, type ProxyFigures, type ProxyPath, type Results } from "./report.ts";
import { failedRequests, runWrk, type WrkResult } from "./wrk.ts";

export const TARGET_RPS = 1_000;
export const FIXED = { connections: 16, threads: 2, seconds: 5, rounds: 3 };
export const SATURATED = { connections: 32, threads: 1, seconds: 5, rounds: 2 };
const WARMUP_SECONDS = 2;

export type ProxyPair = { client: Child; server: Child };
export type Target = { path: Path; url: string; pair: ProxyPair | null };
export type Measured = Pick<Results, "fixedRate" | "addedOverDirectMs" | "saturated" | "throughputTrellisVsNginx" | "throughputRelayVsNginx" | "proxies" | "failedRequests" | "meetsGoals">;

type Usage = {
  cpu: { client: CpuTime; server: CpuTime };
  seconds: number;
  requests: number;
  idle?: { client: Memory; server: Memory };
  /** CPU seconds and requests over the saturated rounds. */
  saturated: { client: number; server: number; requests: number };
};

type Pids = { client: number[]; server: number[] };
const cpuOf = (pids: Pids) => ({ client: cpuSeconds(pids.client), server: cpuSeconds(pids.server) });

export async function measure(targets: Target[], script: string, log: (line: string) => void): Promise<Measured> {
  const trees = (pair: ProxyPair) => ({ client: processTree(pair.client.pid), server: processTree(pair.server.pid) });
  const fixedRuns = new Map<Path, WrkResult[]>();
  const saturatedRuns = new Map<Path, WrkResult[]>();
  const usage = new Map<Path, Usage>();
  const memory = new Map<Path, { client: MemoryFigures; server: MemoryFigures }>();

  for (const target of targets) {
    const pids = target.pair ? trees(target.pair) : null;
    usage.set(target.path, {
      cpu: { client: { user: 0, system: 0 }, server: { user: 0, system: 0 } },
      seconds: 0,
      requests: 0,
      idle: pids ? { client: memoryMb(pids.client), server: memoryMb(pids.server) } : undefined,
      saturated: { client: 0, server: 0, requests: 0 },
    });
    await runWrk({ script, url: target.url, connections: FIXED.connections, threads: FIXED.threads, seconds: WARMUP_SECONDS, paced: false });
  }

  for (let round = 0; round < FIXED.rounds; round += 1) {
    for (const target of targets) {
      const pids = target.pair ? trees(target.pair) : null;
      const before = pids ? cpuOf(pids) : null;
      const result = await runWrk({ script, url: target.url, ...FIXED, paced: true });
      const used = usage.get(target.path);
      if (used) {
        used.seconds += result.durationS;
        used.requests += result.requests;
        if (pids && before) {
          const after = cpuOf(pids);
          for (const side of ["client", "server"] as const) {
            used.cpu[side].user += after[side].user - before[side].user;
            used.cpu[side].system += after[side].system - before[side].system;
          }
        }
      }
      fixedRuns.set(target.path, [...(fixedRuns.get(target.path) ?? []), result]);
      log(`fixed rate, round ${round + 1}, ${target.path}: ${result.rps} rps, p50 ${result.latencyMs.p50} ms, p90 ${result.latencyMs.p90} ms, p99 ${result.latencyMs.p99} ms`);
    }
  }
  for (const target of targets) {
    const idle = usage.get(target.path)?.idle;
    if (!target.pair || !idle) continue;
    const pids = trees(target.pair);
    const [client, server] = [memoryMb(pids.client), memoryMb(pids.server)];
    memory.set(target.path, {
      client: { idle: idle.client, afterFixedRate: client, peakFixedRateMb: client.hwmMb, peakEndMb: NaN },
      server: { idle: idle.server, afterFixedRate: server, peakFixedRateMb: server.hwmMb, peakEndMb: NaN },
    });
  }

  for (let round = 0; round < SATURATED.rounds; round += 1) {
    for (const target of targets) {
      const pids = target.pair ? trees(target.pair) : null;
      const before = pids ? cpuOf(pids) : null;
      const result = await runWrk({ script, url: target.url, ...SATURATED, paced: false });
      const used = usage.get(target.path);
      if (used && pids && before) {
        const after = cpuOf(pids);
        const busy = (cpu: CpuTime) => cpu.user + cpu.system;
        used.saturated.client += busy(after.client) - busy(before.client);
        used.saturated.server += busy(after.server) - busy(before.server);
        used.saturated.requests += result.requests;
      }
      saturatedRuns.set(target.path, [...(saturatedRuns.get(target.path) ?? []), result]);
      log(`saturated, round ${round + 1}, ${target.path}: ${result.rps} rps (p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms)`);
    }
  }
  for (const target of targets) {
    const figures = memory.get(target.path);
    if (!target.pair || !figures) continue;
    const pids = trees(target.pair);
    figures.client.peakEndMb = memoryMb(pids.client).hwmMb;
    figures.server.peakEndMb = memoryMb(pids.server).hwmMb;
  }

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`no ${what} figures`);
    return value;
  };
  const fixed = (path: Path) => combineFixed(need(fixedRuns.get(path), `${path} fixed-rate`));
  const saturated = (path: Path) => bestOf(need(saturatedRuns.get(path), `${path} saturated`));
  const paths: Path[] = ["direct", "nginx", "relay", "trellis"];
  const fixedResults = Object.fromEntries(paths.map((p) => [p, fixed(p)])) as Record<Path, WrkResult>;
  const saturatedResults = Object.fromEntries(paths.map((p) => [p, saturated(p)])) as Record<Path, WrkResult>;
  const added = (path: ProxyPath) => {
    const [a, d] = [fixedResults[path].latencyMs, fixedResults.direct.latencyMs];
    return { p50: round2(a.p50 - d.p50), p90: round2(a.p90 - d.p90), p99: round2(a.p99 - d.p99) };
  };
  const proxy = (path: ProxyPath): ProxyFigures => {
    const used = need(usage.get(path), `${path} CPU`);
    const rps = used.requests / used.seconds;
    const per1k = (cpu: number) => round2((cpu / used.seconds) * (1_000 / rps));
    const total = (cpu: CpuTime) => per1k(cpu.user + cpu.system);
    const kernel = (cpu: CpuTime) => round2(cpu.system / Math.max(cpu.user + cpu.system, 1e-9));
    return {
      vcpuPer1kRps: { client: total(used.cpu.client), server: total(used.cpu.server) },
      kernelShare: { client: kernel(used.cpu.client), server: kernel(used.cpu.server) },
      cpuUsPerRequestSaturated: { client: round2((used.saturated.client * 1e6) / used.saturated.requests), server: round2((used.saturated.server * 1e6) / used.saturated.requests) },
      memoryMb: need(memory.get(path), `${path} memory`),
    };
  };
  const trellis = proxy("trellis");
  const addedTrellis = added("trellis");
  const ratio = round2(saturatedResults.trellis.rps / saturatedResults.nginx.rps);
  const relayRatio = round2(saturatedResults.relay.rps / saturatedResults.nginx.rps);
  return {
    fixedRate: { targetRps: TARGET_RPS, connections: FIXED.connections, seconds: FIXED.seconds, rounds: FIXED.rounds, results: fixedResults },
    addedOverDirectMs: { nginx: added("nginx"), relay: added("relay"), trellis: addedTrellis },
    saturated: { connections: SATURATED.connections, seconds: SATURATED.seconds, rounds: SATURATED.rounds, results: saturatedResults },
    throughputTrellisVsNginx: ratio,
    throughputRelayVsNginx: relayRatio,
    proxies: { nginx: proxy("nginx"), relay: proxy("relay"), trellis },
    failedRequests: Object.fromEntries(
      paths.map((p) => [p, { fixedRate: need(fixedRuns.get(p), p).reduce((n, r) => n + failedRequests(r), 0), saturated: need(saturatedRuns.get(p), p).reduce((n, r) => n + failedRequests(r), 0) }]),
    ) as Results["failedRequests"],
    meetsGoals: {
      addedP50: addedTrellis.p50 <= GOALS.addedP50Ms,
      addedP99: addedTrellis.p99 <= GOALS.addedP99Ms,
      throughput: ratio >= GOALS.throughputVsNginx,
      cpu: Math.max(trellis.vcpuPer1kRps.client, trellis.vcpuPer1kRps.server) <= GOALS.vcpuPer1kRps,
      rss: Math.max(trellis.memoryMb.client.afterFixedRate.rssMb, trellis.memoryMb.server.afterFixedRate.rssMb) <= GOALS.rssMb,
    },
  };
}

/** The rounds of one path as one figure: requests and errors summed, each latency percentile the median round's. */
function combineFixed(runs: WrkResult[]): WrkResult {
  const median = (pick: (r: WrkResult) => number) => {
    const sorted = runs.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? NaN;
  };
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const durationS = round2(runs.reduce((n, r) => n + r.durationS, 0));
  const sum = (pick: (e: WrkResult["errors"]) => number) => runs.reduce((n, r) => n + pick(r.errors), 0);
  return {
    requests,
    durationS,
    rps: Math.round(requests / durationS),
    latencyMs: {
      p50: median((r) => r.latencyMs.p50),
      p90: median((r) => r.latencyMs.p90),
      p99: median((r) => r.latencyMs.p99),
      p999: median((r) => r.latencyMs.p999),
      max: Math.max(...runs.map((r) => r.latencyMs.max)),
      mean: median((r) => r.latencyMs.mean),
    },
    errors: { connect: sum((e) => e.connect), read: sum((e) => e.read), write: sum((e) => e.write), timeout: sum((e) => e.timeout), non2xx: sum((e) => e.non2xx) },
  };
}

/** Saturated throughput: the best round, the one least disturbed by other work on the machine. */
function bestOf(runs: WrkResult[]): WrkResult {
  return runs.reduce((best, r) => (r.rps > best.rps ? r : best));
}
