// What the load generator saw in the last window, and the one line it prints about it, so whoever runs the demo
// can tell at a glance whether the mesh is serving (and how the error rate moves when they change a policy).

export type LoadWindow = {
  startedMs: number;
  ok: number;
  /** HTTP status (non-2xx) → count. */
  failedByStatus: Map<number, number>;
  /** Requests with no HTTP answer: connection refused, reset, timed out. */
  errors: number;
  /** Not sent: the in-flight cap was reached, or their time passed while the process was stalled. */
  skipped: number;
  latenciesMs: number[];
};

export function createWindow(startedMs: number): LoadWindow {
  return { startedMs, ok: 0, failedByStatus: new Map(), errors: 0, skipped: 0, latenciesMs: [] };
}

export function recordResponse(window: LoadWindow, status: number, latencyMs: number): void {
  window.latenciesMs.push(latencyMs);
  if (status >= 200 && status < 300) {
    window.ok++;
    return;
  }
  window.failedByStatus.set(status, (window.failedByStatus.get(status) ?? 0) + 1);
}

/** Nearest-rank percentile; undefined when nothing was measured. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function formatSummary(window: LoadWindow, nowMs: number, target: string): string {
  const failed = [...window.failedByStatus.values()].reduce((a, b) => a + b, 0);
  const done = window.ok + failed + window.errors;
  const seconds = Math.max(0.001, (nowMs - window.startedMs) / 1000);
  const parts = [`${done} requests in ${Math.round(seconds)}s (${(done / seconds).toFixed(1)}/s)`, `${window.ok} ok`];
  const statuses = [...window.failedByStatus.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${n}× ${status}`);
  if (window.errors > 0) statuses.push(`${window.errors}× no response`);
  parts.push(failed + window.errors === 0 ? "0 failed" : `${failed + window.errors} failed (${statuses.join(", ")})`);
  if (window.skipped > 0) parts.push(`${window.skipped} skipped`);
  const p50 = percentile(window.latenciesMs, 50);
  const p99 = percentile(window.latenciesMs, 99);
  if (p50 !== undefined && p99 !== undefined) parts.push(`p50 ${Math.round(p50)} ms, p99 ${Math.round(p99)} ms`);
  return `load: ${target}: ${parts.join(" · ")}`;
}
