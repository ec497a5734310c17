// The key to the graph's colours, for beside the graph: what green, amber and red mean in error rate.
import { CRITICAL_ERROR_RATE, WARNING_ERROR_RATE, errorLevelColors, type ErrorLevel } from "../error-level.ts";

const entries: { level: ErrorLevel; label: string }[] = [
  { level: "ok", label: `< ${WARNING_ERROR_RATE * 100}% errors` },
  { level: "warning", label: `< ${CRITICAL_ERROR_RATE * 100}%` },
  { level: "critical", label: `≥ ${CRITICAL_ERROR_RATE * 100}%` },
  { level: "idle", label: "no inbound traffic" },
];

export function GraphLegend() {
  return (
    <span style={{ display: "inline-flex", gap: 12, alignItems: "center", fontSize: 12, color: "#57606a" }}>
      {entries.map(({ level, label }) => (
        <span key={level} style={{ display: "inline-flex", gap: 4, alignItems: "center" }}>
          <span
            aria-hidden
            style={{
              display: "inline-block",
              width: 10,
              height: 10,
              borderRadius: 3,
              background: errorLevelColors[level].fill,
              border: `1.5px solid ${errorLevelColors[level].stroke}`,
            }}
          />
          {label}
        </span>
      ))}
    </span>
  );
}
