// The sidecar process: read TRELLIS_* env, start the listeners and the config stream, and on SIGTERM drain gracefully
// (/ready 503, stop accepting, `Connection: close` to kept-alive clients, in-flight requests finish, telemetry
// flushed) before runMain exits 0.
import v8 from "node:v8";
import { runMain, SIDECAR_NODE_FLAGS } from "@trellis/runtime";
import { readEnv } from "./env.ts";
import { startSidecar } from "./sidecar.ts";

const DEFAULT_DRAIN_MS = 5_000;
/** On top of the drain: the telemetry flush (2 s) and closing the admin endpoint. */
const STOP_MARGIN_MS = 4_000;

// Two V8 garbage-collector settings for a proxy, whose objects live for one request (bench/results/sidecar-profile.md,
// "Garbage collection after a burst"):
// - allocation-site pretenuring learns from a burst (many requests in flight across scavenges) that request objects
//   live long, and from then on allocates them straight in old space: every later request then costs a slow
//   scavenge (old-to-new pointers from dead pretenured objects, 10 ms pauses at 1,000 rps) and full GCs every few
//   seconds. Off.
// - the young generation grows (up to 2 × 16 MB) after a burst and keeps that memory for good; held at its start
//   size, a sidecar stays ~20 MB smaller for a few per cent of throughput at saturation.
// Both are safe to set at run time, before the first request; --single-threaded-gc is not (SIDECAR_NODE_FLAGS).
v8.setFlagsFromString("--no-allocation-site-pretenuring");
v8.setFlagsFromString("--semi-space-growth-factor=1");

runMain("sidecar", async () => {
  const options = readEnv();
  const sidecar = await startSidecar(options);
  const { ports } = sidecar;
  const listeners =
    options.mode === "gateway"
      ? `gateway ${options.gatewayHost}:${ports.gateway ?? "?"} → ${options.route}`
      : [`inbound 127.0.0.1:${ports.inbound ?? "?"} → app 127.0.0.1:${options.appPort}`, ...Object.entries(ports.upstreams).map(([service, port]) => `${service} 127.0.0.1:${port}`)].join(", ");
  console.log(`sidecar ${options.workload}: ${listeners}; admin http://127.0.0.1:${ports.admin}; control plane ${options.controlPlaneUrl}`);
  const missing = SIDECAR_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  if (missing.length > 0) console.log(`sidecar ${options.workload}: started without ${missing.join(" ")}; \`node ${SIDECAR_NODE_FLAGS.join(" ")} …/main.js\` keeps V8's GC helper threads off the proxy's core (lower tail latency)`);
  return async () => {
    const started = Date.now();
    const drainMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_MS;
    console.log(`sidecar ${options.workload}: draining (in-flight requests get up to ${drainMs} ms)…`);
    // The drain is bounded; if something still holds the stop open past that (a bug), say what and exit anyway,
    // so an orchestrator never has to SIGKILL a sidecar.
    const watchdog = setTimeout(() => {
      console.error(`sidecar ${options.workload}: stopping took over ${drainMs + STOP_MARGIN_MS} ms; still open: ${describeOpen()}; exiting without a clean stop`);
      process.exit(1);
    }, drainMs + STOP_MARGIN_MS);
    await sidecar.stop();
    clearTimeout(watchdog);
    console.log(`sidecar ${options.workload}: drained and flushed in ${Date.now() - started} ms`);
  };
});

/** Counts of the resources keeping the event loop alive, e.g. "TCPSocketWrap ×3, Timeout ×2". */
function describeOpen(): string {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, n]) => `${type} ×${n}`).join(", ");
}
