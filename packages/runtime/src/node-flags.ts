/**
 * Node flags every sidecar (and gateway) process is started with. V8's garbage collector otherwise runs helper
 * threads beside the event loop; a sidecar's heap is ~13 MB and its CPU budget small (often one core or less, or a
 * CFS quota), so the helpers mostly add context switches and steal the core from the proxy: with them off the
 * sidecar benchmark's saturated p99 halved (bench/results/sidecar-profile.md). V8 cannot switch this at run time
 * (v8.setFlagsFromString("--single-threaded-gc") aborts at the next GC), so launchers pass it.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ["--single-threaded-gc"];
