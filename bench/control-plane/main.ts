// The control-plane benchmark (issue 3): 200 simulated sidecars on the real protocol, 50 config changes, the time
// from each change to every sidecar's ACK of the new version, and the control plane's RSS. Stops by itself well
// within 3 minutes and writes bench/results/control-plane.{json,md}.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startEnvironment, repoRoot, type BenchEnvironment } from "./environment.ts";
import { buildFleet, FLEET_SIZE, probeNode, startFleet } from "./fleet.ts";
import { BEFORE, CHANGES } from "./history.ts";
import { describeMachine, distribution, GOALS, writeResults, type Results } from "./report.ts";
import { connectSidecar, now, type ReplyEvent, type SimSidecar } from "./sim-sidecar.ts";

const ROUNDS = 50;
const WARMUP_ROUNDS = 5;
const ROUND_TIMEOUT_MS = 10_000;
const PAUSE_BETWEEN_ROUNDS_MS = 100;
/** Each apply starts on a settled control plane: its registry has written the previous round's ACKs (bounded wait). */
const SETTLE_TIMEOUT_MS = 5_000;
const DEADLINE_MS = 170_000;

const log = (line: string) => console.log(`bench control-plane: ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const seedYaml = readFileSync(join(repoRoot, "apps/demo/policies/seed-policies.yaml"), "utf8");

/** The seed's order-service VirtualService with the canary at v1/v2 weights; alternated between rounds. */
function canaryYaml(v1: number): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts:
  - order-service
  http:
  - route:
    - destination:
        host: order-service
        subset: v1
      weight: ${v1}
    - destination:
        host: order-service
        subset: v2
      weight: ${100 - v1}
`;
}

async function apply(url: string, yaml: string, dryRun = false): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/v1/policies/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ yaml, author: "bench", dryRun }),
  });
  return { status: response.status, text: await response.text() };
}

/** Tracks every sidecar's replies; resolves a round when each fleet sidecar has ACKed a version above the baseline. */
function createTracker(fleetIds: Set<string>) {
  let highest = 0;
  let nacks = 0;
  const sizes = { min: Infinity, max: 0 };
  let round: { baseline: number; pending: Set<string>; firstReceived: number; lastAck: number; lastReceived: number; resolve: () => void } | null = null;
  const acked = new Set<string>();
  return {
    onReply(event: ReplyEvent) {
      if (!fleetIds.has(event.id)) return;
      if (!event.ok) {
        nacks += 1;
        console.error(`bench control-plane: ${event.id} NACKed version ${event.version}: ${event.error ?? ""}`);
      }
      sizes.min = Math.min(sizes.min, event.bytes);
      sizes.max = Math.max(sizes.max, event.bytes);
      highest = Math.max(highest, event.version);
      acked.add(event.id);
      if (round && event.version > round.baseline && round.pending.delete(event.id)) {
        round.lastAck = Math.max(round.lastAck, event.repliedAt);
        round.lastReceived = Math.max(round.lastReceived, event.receivedAt);
        round.firstReceived = Math.min(round.firstReceived, event.receivedAt);
        if (round.pending.size === 0) round.resolve();
      }
    },
    everyoneAnswered: () => acked.size === fleetIds.size,
    async measure(trigger: () => Promise<void>): Promise<{ ackedMs: number; pushedMs: number; firstPushedMs: number; respondedMs: number; benchCpuMs: number }> {
      const started = now();
      const cpuBefore = process.cpuUsage();
      const state = { baseline: highest, pending: new Set(fleetIds), firstReceived: Infinity, lastAck: 0, lastReceived: 0, resolve: () => {} };
      const done = new Promise<void>((resolve) => (state.resolve = resolve));
      round = state;
      await trigger();
      const respondedMs = now() - started;
      const timeout = sleep(ROUND_TIMEOUT_MS).then(() => "timeout" as const);
      const outcome = await Promise.race([done.then(() => "done" as const), timeout]);
      round = null;
      if (outcome === "timeout") throw new Error(`${state.pending.size} sidecars did not ACK a new version within ${ROUND_TIMEOUT_MS} ms (e.g. ${[...state.pending].slice(0, 3).join(", ")})`);
      const cpu = process.cpuUsage(cpuBefore);
      return {
        ackedMs: state.lastAck - started,
        pushedMs: state.lastReceived - started,
        firstPushedMs: state.firstReceived - started,
        respondedMs,
        benchCpuMs: (cpu.user + cpu.system) / 1000,
      };
    },
    nacks: () => nacks,
    highest: () => highest,
    snapshotBytes: () => ({ min: sizes.min === Infinity ? 0 : sizes.min, max: sizes.max }),
  };
}

async function run(env: BenchEnvironment, machine: Results["machine"]): Promise<Results> {
  const fleet = buildFleet();
  const tracker = createTracker(new Set(fleet.map((node) => node.id)));

  const idle = env.readRss();
  const probe = await apply(env.url, seedYaml, true);
  // TRELLIS_BENCH_MODE=registry measures the push path alone, without the apply in front of it.
  const mode: Results["mode"] = probe.status === 200 && process.env.TRELLIS_BENCH_MODE !== "registry" ? "apply" : "registry";
  if (probe.status === 200) {
    const seeded = await apply(env.url, seedYaml);
    if (seeded.status !== 200) throw new Error(`applying the seed policies failed (HTTP ${seeded.status}): ${seeded.text}`);
    log("seed policies applied");
  }
  if (mode === "apply") {
    log("mode: real applies (rounds alternate the canary 90/10 ↔ 80/20)");
  } else {
    log(`mode: registry changes (an extra workload re-registers at another address; POST /v1/policies/apply answered HTTP ${probe.status})`);
  }

  const simulated = startFleet({ url: env.url, nodes: fleet, onReply: tracker.onReply });
  log(`${FLEET_SIZE} simulated sidecars on ${simulated.threads} threads`);
  const connectDeadline = Date.now() + 30_000;
  while (!tracker.everyoneAnswered()) {
    if (Date.now() > connectDeadline) throw new Error(`not every one of the ${FLEET_SIZE} sidecars got and ACKed a first config within 30 s`);
    await sleep(50);
  }
  await sleep(1_000); // let the registration burst and its writes settle
  const settled = env.readRss();
  log(`${FLEET_SIZE} sidecars connected and ACKed; control plane RSS ${settled.rssMb.toFixed(1)} MB`);

  let probeSidecar: SimSidecar | null = null;
  const change = async (round: number) => {
    if (mode === "apply") {
      const result = await apply(env.url, canaryYaml(round % 2 === 0 ? 80 : 90));
      if (result.status !== 200) throw new Error(`apply failed (HTTP ${result.status}): ${result.text}`);
      return;
    }
    // The extra instance re-registers on another port each round: a stream that merely closed would stay an
    // endpoint for the disconnect grace period and change nothing.
    const previous = probeSidecar;
    probeSidecar = connectSidecar({ url: env.url, node: probeNode(round % 2 === 0 ? 39_999 : 39_998), onReply: () => {} });
    previous?.close();
  };

  const fleetIds = new Set(fleet.map((node) => node.id));
  let unsettledRounds = 0;
  const settle = async () => {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const rows = (await (await fetch(`${env.url}/v1/sidecars`)).json()) as Array<{ id: string; acked: boolean; configVersion: number | null }>;
      const caughtUp = rows.filter((row) => fleetIds.has(row.id) && row.acked && row.configVersion === tracker.highest()).length;
      if (caughtUp === fleetIds.size) return;
      await sleep(50);
    }
    unsettledRounds += 1;
  };

  const samples: Results["samples"] = [];
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) {
    await settle();
    await sleep(PAUSE_BETWEEN_ROUNDS_MS);
    const sample = await tracker.measure(() => change(round));
    if (round >= WARMUP_ROUNDS) {
      samples.push({
        round: round - WARMUP_ROUNDS + 1,
        ackedMs: round2(sample.ackedMs),
        pushedMs: round2(sample.pushedMs),
        firstPushedMs: round2(sample.firstPushedMs),
        respondedMs: round2(sample.respondedMs),
        benchCpuMs: round2(sample.benchCpuMs),
      });
    }
  }
  const end = env.readRss();

  await settle();
  const rows = (await (await fetch(`${env.url}/v1/sidecars`)).json()) as Array<{ id: string; connected: boolean; acked: boolean }>;
  const fleetRows = rows.filter((row) => fleet.some((node) => node.id === row.id));
  (probeSidecar as SimSidecar | null)?.close();
  await simulated.close();

  const acks = distribution(samples.map((s) => s.ackedMs));
  return {
    benchmark: "control-plane",
    date: new Date().toISOString(),
    machine,
    mode,
    sidecars: FLEET_SIZE,
    fleetThreads: simulated.threads,
    rounds: ROUNDS,
    warmupRounds: WARMUP_ROUNDS,
    applyToAllAcksMs: acks,
    applyToAllPushedMs: distribution(samples.map((s) => s.pushedMs)),
    applyToFirstPushedMs: distribution(samples.map((s) => s.firstPushedMs)),
    applyResponseMs: distribution(samples.map((s) => s.respondedMs)),
    rssMb: { idle: round2(idle.rssMb), settled: round2(settled.rssMb), end: round2(end.rssMb), peak: round2(end.hwmMb) },
    simulatedSidecarsCpuMs: distribution(samples.map((s) => s.benchCpuMs)),
    snapshotBytes: tracker.snapshotBytes(),
    nacks: tracker.nacks(),
    unsettledRounds,
    finalState: { connected: fleetRows.filter((row) => row.connected).length, acked: fleetRows.filter((row) => row.acked).length },
    goals: GOALS,
    meetsGoals: { p50: acks.p50 <= GOALS.p50Ms, p99: acks.p99 <= GOALS.p99Ms, rss: Math.max(settled.rssMb, end.rssMb) <= GOALS.rssMb },
    before: BEFORE,
    changes: CHANGES,
    samples,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench control-plane: still running after ${DEADLINE_MS / 1000} s; giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const started = Date.now();
  const machine = describeMachine();
  const env = await startEnvironment(log);
  let results: Results;
  try {
    results = await run(env, machine);
  } catch (error) {
    console.error(`bench control-plane: ${(error as Error).message}\ncontrol-plane log: ${env.logFile}`);
    await env.stop();
    process.exit(1);
  }
  await env.stop();
  // A forced registry run is a diagnostic next to the apply figures, not a replacement for them.
  const name = process.env.TRELLIS_BENCH_MODE === "registry" ? "control-plane-registry" : "control-plane";
  const files = writeResults(join(repoRoot, "bench/results"), name, results);
  const a = results.applyToAllAcksMs;
  log(`${results.mode}: apply → every ACK p50 ${a.p50} ms, p90 ${a.p90} ms, p99 ${a.p99} ms (max ${a.max}); RSS ${results.rssMb.settled} MB settled, ${results.rssMb.peak} MB peak`);
  log(`goals p50 ≤${GOALS.p50Ms} ms ${results.meetsGoals.p50 ? "met" : "MISSED"}, p99 ≤${GOALS.p99Ms} ms ${results.meetsGoals.p99 ? "met" : "MISSED"}, RSS ≤${GOALS.rssMb} MB ${results.meetsGoals.rss ? "met" : "MISSED"}`);
  log(`wrote ${files.json} and ${files.markdown} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
