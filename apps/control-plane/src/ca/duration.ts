// Durations in Istio's (Go's) syntax, as operators write them in YAML and env vars: `1h`, `90m`, `1.5s`, `250ms`,
// `1h30m`. The domain uses whole milliseconds.

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

export function parseDuration(text: string): DurationResult {
  const input = text.trim();
  const invalid = { ok: false, error: `"${text}" is not a duration; write a number and a unit (h, m, s, ms), e.g. 1h, 90m, 1.5s or 250ms` } as const;
  if (input === "") return invalid;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (match === null) return invalid;
    const [, amount = "", unit = ""] = match;
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  const ms = Math.round(total);
  if (ms <= 0) return { ok: false, error: `"${text}" is not a positive duration` };
  return { ok: true, ms };
}
