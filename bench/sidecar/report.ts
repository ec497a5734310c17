// The sidecar benchmark's results: bench/results/sidecar.json (every figure) and sidecar.md (goals, figures, method).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { describeMachine } from "../control-plane/report.ts";
import type { Memory } from "./processes.ts";
import type { WrkResult } from "./wrk.ts";

export const GOALS = { addedP50Ms: 0.5, addedP99Ms: 1.5, throughputVsNginx: 0.6, vcpuPer1kRps: 0.2, rssMb: 45 } as const;

export type Path = "direct" | "nginx" | "relay" | "trellis";
/** The paths through a pair of proxies: nginx (the peer), the Node byte relay (Node's floor) and Trellis. */
export type ProxyPath = Exclude<Path, "direct">;
export type ProxyFigures = {
  /** vCPU per 1,000 rps during the fixed-rate run, per proxy process (tree). */
  vcpuPer1kRps: { client: number; server: number };
  /** The share of that CPU spent in the kernel (stime): on loopback, sending and receiving. */
  kernelShare: { client: number; server: number };
  /**
   * CPU µs per request over the saturated rounds, per proxy: the cost of a request with the loop always busy,
   * steadier from run to run than rps (which also moves with wrk's and the app's share of the cores).
   */
  cpuUsPerRequestSaturated: { client: number; server: number };
  /** VmRSS idle (before load), at the end of the fixed-rate run, and VmHWM after it and at the end (after saturation). */
  memoryMb: { client: MemoryFigures; server: MemoryFigures };
};
export type MemoryFigures = { idle: Memory; afterFixedRate: Memory; peakFixedRateMb: number; peakEndMb: number };

export type Results = {
  benchmark: "sidecar";
  date: string;
  machine: ReturnType<typeof describeMachine>;
  /** Other work on the (shared) machine skews the figures; the 1/5/15-minute load average when the run ended. */
  loadAverageAtEnd: number[];
  /** The sidecar code measured: HEAD plus whatever the working tree changed (other work in progress). */
  code: { head: string; uncommittedFiles: number };
  layout: string;
  app: string;
  fixedRate: { targetRps: number; connections: number; seconds: number; rounds: number; results: Record<Path, WrkResult> };
  addedOverDirectMs: Record<ProxyPath, { p50: number; p90: number; p99: number }>;
  saturated: { connections: number; seconds: number; rounds: number; results: Record<Path, WrkResult> };
  throughputTrellisVsNginx: number;
  /** The Node byte-relay pair's saturated throughput over the nginx pair's: what a Node proxy can reach at best. */
  throughputRelayVsNginx: number;
  proxies: Record<ProxyPath, ProxyFigures>;
  mtls: { trellisHopRefusesPlaintext: boolean; check: string };
  telemetry: { otlpExports: number; otlpBytes: number; byPath: Record<string, number> };
  failedRequests: Record<Path, { fixedRate: number; saturated: number }>;
  goals: typeof GOALS;
  meetsGoals: { addedP50: boolean; addedP99: boolean; throughput: boolean; cpu: boolean; rss: boolean };
};

export function writeResults(dir: string, results: Results): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "sidecar.json");
  const markdown = join(dir, "sidecar.md");
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(results));
  return { json, markdown };
}

const mark = (ok: boolean) => (ok ? "✅" : "❌");
const f2 = (n: number) => n.toFixed(2);
const pct = (share: number) => `${Math.round(share * 100)}%`;

function renderMarkdown(r: Results): string {
  const fixed = r.fixedRate.results;
  const sat = r.saturated.results;
  const t = r.proxies.trellis;
  const n = r.proxies.nginx;
  const relay = r.proxies.relay;
  const added = r.addedOverDirectMs;
  const maxVcpu = Math.max(t.vcpuPer1kRps.client, t.vcpuPer1kRps.server);
  const maxRss = Math.max(t.memoryMb.client.afterFixedRate.rssMb, t.memoryMb.server.afterFixedRate.rssMb);
  const latencyRow = (name: string, path: Path) => {
    const x = fixed[path];
    return `| ${name} | ${x.rps} | ${f2(x.latencyMs.p50)} | ${f2(x.latencyMs.p90)} | ${f2(x.latencyMs.p99)} | ${f2(x.latencyMs.p999)} | ${f2(x.latencyMs.max)} | ${r.failedRequests[path].fixedRate} |`;
  };
  const satRow = (name: string, path: Path) => {
    const x = sat[path];
    return `| ${name} | ${x.rps} | ${f2(x.latencyMs.p50)} | ${f2(x.latencyMs.p99)} | ${r.failedRequests[path].saturated} |`;
  };
  const memRow = (name: string, m: MemoryFigures) =>
    `| ${name} | ${m.idle.rssMb} (${m.idle.anonMb} / ${m.idle.pssMb}) | ${m.afterFixedRate.rssMb} (${m.afterFixedRate.anonMb} / ${m.afterFixedRate.pssMb}) | ${m.peakFixedRateMb} | ${m.peakEndMb} |`;
  return `# Sidecar benchmark

\`npm run bench -- sidecar\` — ${r.date} — code: ${r.code.head}${r.code.uncommittedFiles > 0 ? ` + ${r.code.uncommittedFiles} uncommitted files (work in progress in the tree)` : ""}

Four paths to the same app, in one run: **direct** (wrk → app), the **nginx pair** (wrk → nginx → mutual TLS →
nginx → app), the **Trellis pair** (wrk → caller's sidecar outbound listener → mTLS → app's sidecar → app; two
built sidecars as processes, joined to the real control plane with join tokens, mesh-wide STRICT PeerAuthentication,
telemetry on) and, as Node's floor, a **Node byte-relay pair** with the same hops that only copies bytes. App: ${r.app}

| | goal | result | |
|---|---|---|---|
| Trellis pair adds at p50 (${r.fixedRate.targetRps} rps) | ≤ ${GOALS.addedP50Ms} ms | ${f2(added.trellis.p50)} ms (nginx pair: ${f2(added.nginx.p50)} ms) | ${mark(r.meetsGoals.addedP50)} |
| Trellis pair adds at p99 (${r.fixedRate.targetRps} rps) | ≤ ${GOALS.addedP99Ms} ms | ${f2(added.trellis.p99)} ms (nginx pair: ${f2(added.nginx.p99)} ms) | ${mark(r.meetsGoals.addedP99)} |
| saturated throughput, one core per proxy, vs nginx pair | ≥ ${GOALS.throughputVsNginx}× | ${r.throughputTrellisVsNginx.toFixed(2)}× (${sat.trellis.rps} vs ${sat.nginx.rps} rps) | ${mark(r.meetsGoals.throughput)} |
| CPU per 1,000 rps per sidecar | ≤ ${GOALS.vcpuPer1kRps} vCPU | caller ${f2(t.vcpuPer1kRps.client)}, app side ${f2(t.vcpuPer1kRps.server)} vCPU (nginx: ${f2(n.vcpuPer1kRps.client)}, ${f2(n.vcpuPer1kRps.server)}) | ${mark(r.meetsGoals.cpu)} |
| RSS per sidecar, telemetry on (VmRSS at the end of the ${r.fixedRate.targetRps} rps rounds; VmHWM in brackets) | ≤ ${GOALS.rssMb} MB | caller ${t.memoryMb.client.afterFixedRate.rssMb} MB (${t.memoryMb.client.peakFixedRateMb}), app side ${t.memoryMb.server.afterFixedRate.rssMb} MB (${t.memoryMb.server.peakFixedRateMb}); nginx ${n.memoryMb.client.afterFixedRate.rssMb}, ${n.memoryMb.server.afterFixedRate.rssMb} MB | ${mark(r.meetsGoals.rss)} |

Node's floor in this run — the byte-relay pair (same hops and mutual TLS; no HTTP, no policy, no telemetry): ${sat.relay.rps} rps saturated,
${r.throughputRelayVsNginx.toFixed(2)}× the nginx pair; adds ${f2(added.relay.p50)} ms at p50 and ${f2(added.relay.p99)} ms at p99 at ${r.fixedRate.targetRps} rps; ${f2(relay.vcpuPer1kRps.client)} / ${f2(relay.vcpuPer1kRps.server)} vCPU per 1,000 rps; ${relay.memoryMb.client.afterFixedRate.rssMb} / ${relay.memoryMb.server.afterFixedRate.rssMb} MB RSS.

CPU per request at saturation (µs, user + kernel), caller / app side: Trellis ${Math.round(t.cpuUsPerRequestSaturated.client)} / ${Math.round(t.cpuUsPerRequestSaturated.server)}; Node relay ${Math.round(relay.cpuUsPerRequestSaturated.client)} / ${Math.round(relay.cpuUsPerRequestSaturated.server)}; nginx ${Math.round(n.cpuUsPerRequestSaturated.client)} / ${Math.round(n.cpuUsPerRequestSaturated.server)}.
Share of the proxies' CPU spent in the kernel (send/receive on loopback): Trellis caller ${pct(t.kernelShare.client)}, app side ${pct(t.kernelShare.server)}; Node relay ${pct(relay.kernelShare.client)}, ${pct(relay.kernelShare.server)}; nginx ${pct(n.kernelShare.client)}, ${pct(n.kernelShare.server)}.
Largest per-sidecar figures: ${f2(maxVcpu)} vCPU per 1,000 rps, ${maxRss} MB. mTLS on the Trellis hop: ${r.mtls.check}.
Telemetry: the sidecars sent ${r.telemetry.otlpExports} OTLP exports (${(r.telemetry.otlpBytes / 1024).toFixed(0)} KB: ${Object.entries(r.telemetry.byPath).map(([p, c]) => `${p} ×${c}`).join(", ") || "none"}) to a loopback sink that discards them.

## Latency at a fixed rate (${r.fixedRate.targetRps} rps target, ${r.fixedRate.connections} keep-alive connections, 1 KB bodies, ${r.fixedRate.rounds} interleaved rounds of ${r.fixedRate.seconds} s)

Each percentile is the median round's; rps and failures over all rounds.

| path | achieved rps | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | failed |
|---|---|---|---|---|---|---|---|
${latencyRow("direct", "direct")}
${latencyRow("nginx pair", "nginx")}
${latencyRow("Node byte-relay pair", "relay")}
${latencyRow("Trellis pair", "trellis")}

Added over direct (ms): nginx pair p50 ${f2(added.nginx.p50)}, p90 ${f2(added.nginx.p90)}, p99 ${f2(added.nginx.p99)}; Node byte-relay pair p50 ${f2(added.relay.p50)}, p90 ${f2(added.relay.p90)}, p99 ${f2(added.relay.p99)}; Trellis pair p50 ${f2(added.trellis.p50)}, p90 ${f2(added.trellis.p90)}, p99 ${f2(added.trellis.p99)}.

## Saturated throughput (closed loop, ${r.saturated.connections} connections, best of ${r.saturated.rounds} interleaved rounds of ${r.saturated.seconds} s)

| path | rps | p50 ms | p99 ms | failed |
|---|---|---|---|---|
${satRow("direct", "direct")}
${satRow("nginx pair", "nginx")}
${satRow("Node byte-relay pair", "relay")}
${satRow("Trellis pair", "trellis")}

## Memory (MB)

VmRSS idle and after the fixed-rate rounds (the goal's figure), with RssAnon (the process's own memory: heap, compiled code) and PSS
(shared pages such as the node binary divided among the processes mapping them) in brackets; VmHWM (peak RSS) after the
fixed-rate rounds (it includes start-up and the closed-loop warm-ups) and at the end of the run. A bare \`node\` process is ~39 MB RSS, ~33 MB of it the mapped binary.

| process | idle RSS (anon / PSS) | RSS after ${r.fixedRate.targetRps} rps (anon / PSS) | peak through ${r.fixedRate.targetRps} rps | peak at end (after saturation) |
|---|---|---|---|---|
${memRow("Trellis caller sidecar", t.memoryMb.client)}
${memRow("Trellis app-side sidecar", t.memoryMb.server)}
${memRow("nginx client side (master + worker)", n.memoryMb.client)}
${memRow("nginx server side (master + worker)", n.memoryMb.server)}
${memRow("Node byte relay, client side", relay.memoryMb.client)}
${memRow("Node byte relay, server side", relay.memoryMb.server)}

## Method

- Load: wrk ${"4.1"} with a Lua script. Fixed rate: each connection waits 15–16 ms (\`delay()\`, whole ms, cycled to 15.67 ms)
  before each request, so ${r.fixedRate.connections} connections send ~${r.fixedRate.targetRps} rps; the pacing does not speed up when an
  answer is slow and latency is timed from each request's send (wrk's histogram, µs resolution). Plain wrk is closed-loop
  and is used only for the saturated runs. Each path gets a 2 s closed-loop warm-up first (JIT, pools, TLS sessions).
  The paths take turns (direct, nginx, Node relay, Trellis, direct, …) so that other work on the machine falls on all of them.
- Layout: ${r.layout}
- CPU: utime + stime from \`/proc/<pid>/stat\` (all threads, nginx master + worker) over the fixed-rate run, divided by
  the run's seconds and by (achieved rps / 1,000).
- Trellis: \`apps/sidecar/dist/main.js\` built by \`scripts/build-node-app.mjs\`, two processes, real control plane
  (\`apps/control-plane/dist\`, fresh embedded Postgres, bench/control-plane/environment.ts), join tokens from
  \`POST /v1/join-tokens\`, \`PeerAuthentication\` STRICT in istio-system applied with \`POST /v1/policies/apply\`,
  OTLP to a loopback sink in the benchmark process.
- Node byte-relay pair (\`bench/sidecar/node-relay.mjs\`): the same hops as the sidecar pair (plaintext in, mutual TLS
  1.3 between the two, plaintext to the app, the nginx pair's certificates) and nothing else: no HTTP parsing, no
  routing, no telemetry, one upstream connection per downstream one, bytes piped both ways. No Node proxy can do less
  per request, so its figures are the floor a Node data plane stands on, on this machine, in this run.
- nginx pair: one worker each, kept-alive upstreams (64), TLS 1.3 with a run-local CA (ECDSA P-256, openssl), the
  server side verifying the client certificate (mutual TLS, as the sidecars do), no access log.

Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, ${r.machine.os}, Node ${r.machine.node}; load average at the start
${r.machine.loadAverageAtStart.join(" / ")}, at the end ${r.loadAverageAtEnd.join(" / ")}. wrk, the app, Postgres, the control plane and the proxies share the machine.
`;
}
