// Istio durations (`2s`, `250ms`, `1m`, `1h`, `1.5s`, also Go's composites like `1m30s`) to integer milliseconds
// and back, so the domain never carries strings with units.

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000_001 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;

export type DurationParse = { ok: true; ms: number } | { ok: false; message: string };

export function parseDuration(value: unknown): DurationParse {
  const shown = typeof value === "string" ? `"${value}"` : JSON.stringify(value) ?? String(value);
  const notDuration: DurationParse = { ok: false, message: `${shown} is not a duration; use Istio syntax like 2s or 250ms` };
  if (typeof value !== "string" || value === "") return notDuration;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < value.length) {
    const start = PART.lastIndex;
    const match = PART.exec(value);
    if (match === null || match.index !== start) return notDuration;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
  }
  // Float error from `1.1s` etc.: a value within a microsecond of a whole millisecond is that millisecond.
  const rounded = Math.round(total);
  if (!Number.isFinite(total) || Math.abs(total - rounded) > 0.001) {
    return { ok: false, message: `${shown} is not a whole number of milliseconds; Trellis works in milliseconds, e.g. 250ms` };
  }
  return { ok: true, ms: rounded };
}

/** The shortest exact Istio spelling: `1h`, `2m`, `10s`, `250ms`, `1500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
