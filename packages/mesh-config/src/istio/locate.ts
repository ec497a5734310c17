// Finds where an Istio field path sits in the YAML source, so an error can say "line 17": the key of the deepest
// part of the path that exists (a missing field points at its parent).
import { isMap, isScalar, isSeq, type Document, type LineCounter } from "yaml";

export type SourcePosition = { line: number; column: number };

export function locatePath(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): SourcePosition | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
      continue;
    }
    if (isSeq(node) && typeof segment === "number") {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
      continue;
    }
    break;
  }
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== "object" || node === null || !("range" in node)) return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range?.[0];
}
