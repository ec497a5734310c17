// A trace's spans in tree order: each span directly followed by its subtree, children in start order, with its
// depth (0 for a root). A flat list rather than nested objects because traces can be thousands of spans deep, and
// nesting that deep overflows the stack of whatever walks it (validation, serialisation, rendering). A span whose
// parent was never received is a root, and so is the earliest span of a parent cycle (corrupt ids), so every span
// appears exactly once however broken the input.

/** What the ordering needs of a span; `offsetMs` orders siblings (ties go by span id). */
export type TreeSpan = { spanId: string; parentSpanId: string | null; offsetMs: number };

function byStart(a: TreeSpan, b: TreeSpan): number {
  if (a.offsetMs !== b.offsetMs) return a.offsetMs - b.offsetMs;
  return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

export function orderSpanTree<T extends TreeSpan>(spans: readonly T[]): (T & { depth: number })[] {
  const sorted = [...spans].sort(byStart);
  const byId = new Map<string, T>();
  for (const span of sorted) if (!byId.has(span.spanId)) byId.set(span.spanId, span);

  // Children lists in start order (spans are sorted, so pushing keeps the order).
  const childrenOf = new Map<T, T[]>();
  const orphans: T[] = [];
  for (const span of sorted) {
    const parent = span.parentSpanId === null ? undefined : byId.get(span.parentSpanId);
    if (!parent || parent === span) {
      orphans.push(span);
      continue;
    }
    const siblings = childrenOf.get(parent);
    if (siblings) siblings.push(span);
    else childrenOf.set(parent, [span]);
  }

  // Depth-first from each root, without recursion; a span is placed once, by the first walk that reaches it —
  // what no root reaches sits on a cycle and starts a walk of its own.
  const placed = new Set<T>();
  const walks: (T & { depth: number })[][] = [];
  const walkFrom = (root: T) => {
    const out: (T & { depth: number })[] = [];
    placed.add(root);
    const stack: [T, number][] = [[root, 0]];
    for (let next = stack.pop(); next; next = stack.pop()) {
      const [span, depth] = next;
      out.push({ ...span, depth });
      const children = (childrenOf.get(span) ?? []).filter((child) => !placed.has(child));
      for (const child of children) placed.add(child);
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i] as T, depth + 1]);
    }
    walks.push(out);
  };
  for (const orphan of orphans) walkFrom(orphan);
  for (const span of sorted) if (!placed.has(span)) walkFrom(span);
  // Roots in start order, each with its subtree.
  return walks.sort((a, b) => byStart(a[0] as T, b[0] as T)).flat();
}
