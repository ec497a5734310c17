// V8 settings the control-plane process applies to itself at start (main.ts only: not in tests or other processes
// that host a control plane in-process). Measured with the 200-sidecar benchmark, see bench/results/control-plane.md.
import v8 from "node:v8";

/**
 * - WebAssembly stays in its baseline (Liftoff) tier: Prisma's query compiler is a 3.4 MB wasm module, and tiering it
 *   up to TurboFan keeps ~65 MB of code and compiler memory resident (idle RSS 191 → 124 MB) for no measurable change
 *   in apply latency.
 * - V8 favours size over speed: above all it keeps the young generation at 1 MB (it grows to 16 MB while the
 *   modules load, before this runs, and never shrinks otherwise) and grows the old one in small steps. That is another
 *   ~20 MB idle and ~25 MB after a run of applies (the benchmark's RSS ends at ~138 MB instead of ~163 MB), for a few
 *   more scavenges per apply (~2–3 ms). `--max-semi-space-size` would be the finer knob, but only on the command line.
 */
export const CONTROL_PLANE_V8_FLAGS = ["--no-wasm-dynamic-tiering", "--no-wasm-tier-up", "--optimize-for-size"];

/** Must run before the first Prisma query compiles the wasm module. */
export function applyRuntimeFlags(): void {
  v8.setFlagsFromString(CONTROL_PLANE_V8_FLAGS.join(" "));
}
