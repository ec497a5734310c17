// A unified diff of one policy's exported YAML, for history and dry-run: what an apply or rollback changes, in the
// form SREs read in code review.
import { exportPolicy } from "./export.ts";
import { diffLines, type DiffLine } from "./diff-lines.ts";
import { policyKey, type Policy } from "./types.ts";

const CONTEXT = 3;

/** Empty when nothing changed; `before` null is a creation, `after` null a removal. */
export function diffPolicies(before: Policy | null, after: Policy | null, context = CONTEXT): string {
  const subject = after ?? before;
  if (subject === null) return "";
  const lines = diffLines(toLines(before), toLines(after));
  if (lines.every((line) => line.op === " ")) return "";
  const key = policyKey(subject);
  const header = [`--- ${before === null ? "/dev/null" : `a/${key}`}`, `+++ ${after === null ? "/dev/null" : `b/${key}`}`];
  return [...header, ...formatHunks(lines, context)].join("\n") + "\n";
}

function toLines(policy: Policy | null): string[] {
  if (policy === null) return [];
  return exportPolicy(policy).replace(/\n$/, "").split("\n");
}

function formatHunks(lines: readonly DiffLine[], context: number): string[] {
  const changed = lines.flatMap((line, index) => (line.op === " " ? [] : [index]));
  const out: string[] = [];
  let start = 0;
  while (start < changed.length) {
    // Grow the hunk while the next change is within 2 × context lines of the last one.
    let end = start;
    while (end + 1 < changed.length && (changed[end + 1] as number) - (changed[end] as number) <= 2 * context) end++;
    const from = Math.max(0, (changed[start] as number) - context);
    const to = Math.min(lines.length, (changed[end] as number) + context + 1);
    out.push(hunkHeader(lines, from, to), ...lines.slice(from, to).map((line) => `${line.op}${line.text}`));
    start = end + 1;
  }
  return out;
}

function hunkHeader(lines: readonly DiffLine[], from: number, to: number): string {
  const count = (op: DiffLine["op"], upTo: number) => lines.slice(0, upTo).filter((l) => l.op === " " || l.op === op).length;
  const beforeStart = count("-", from);
  const afterStart = count("+", from);
  const beforeLen = count("-", to) - beforeStart;
  const afterLen = count("+", to) - afterStart;
  return `@@ -${range(beforeStart, beforeLen)} +${range(afterStart, afterLen)} @@`;
}

/** Unified diff ranges are 1-based; an empty range names the line before it. */
function range(start: number, length: number): string {
  return `${length === 0 ? start : start + 1},${length}`;
}
