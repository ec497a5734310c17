// Number formats shared by the graph and the dashboard's tables, so a rate or a percentage reads the same everywhere.
import { format } from "d3";

const thousands = format(",.0f");
const siPrefix = format(".3s");

/** Requests per second: two decimals below 1, one below 100, whole numbers above, SI prefix past 10k. */
export function formatRate(rps: number): string {
  if (rps === 0) return "0";
  if (rps < 0.01) return "<0.01";
  if (rps < 1) return rps.toFixed(2);
  if (rps < 100) return rps.toFixed(1);
  if (rps < 10_000) return thousands(rps);
  return siPrefix(rps);
}

/** A 0..1 ratio as a percentage with one decimal; tiny non-zero ratios stay visible as "<0.1%". */
export function formatPercent(ratio: number): string {
  if (ratio === 0) return "0%";
  if (ratio >= 1) return "100%";
  if (ratio < 0.001) return "<0.1%";
  return `${(ratio * 100).toFixed(1)}%`;
}

/** Milliseconds; "—" when there is no measurement. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
