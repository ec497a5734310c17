// The span tree's rules on their own: parents, start order, orphans and corrupt ids (cycles, self-parents).
import { describe, expect, it } from "vitest";
import { orderSpanTree, type TreeSpan } from "./span-tree.ts";

const span = (spanId: string, parentSpanId: string | null, offsetMs: number): TreeSpan => ({ spanId, parentSpanId, offsetMs });

/** "  ".repeat(depth) + id per span, so a test reads like the tree it expects. */
function outline(spans: TreeSpan[]): string[] {
  return orderSpanTree(spans).map((s) => `${"  ".repeat(s.depth)}${s.spanId}`);
}

describe("orderSpanTree", () => {
  it("puts each span after its parent, children in start order", () => {
    expect(outline([span("c", "a", 5), span("a", null, 0), span("b", "a", 1), span("d", "b", 2)])).toEqual(["a", "  b", "    d", "  c"]);
  });

  it("makes spans whose parent is missing roots, in start order", () => {
    expect(outline([span("late", "gone", 9), span("root", null, 0), span("early", "gone", 3), span("child", "early", 4)])).toEqual([
      "root",
      "early",
      "  child",
      "late",
    ]);
  });

  it("breaks ties in start time by span id", () => {
    expect(outline([span("b", null, 0), span("a", null, 0)])).toEqual(["a", "b"]);
  });

  it("keeps every span of a parent cycle or a self-parent once", () => {
    expect(outline([span("x", "y", 1), span("y", "x", 2), span("z", "y", 3), span("self", "self", 4)])).toEqual(["x", "  y", "    z", "self"]);
  });

  it("handles a trace tens of thousands of spans deep", () => {
    const depth = 20_000;
    const ordered = orderSpanTree(Array.from({ length: depth }, (_, i) => span(`s${i}`, i === 0 ? null : `s${i - 1}`, i)));
    expect(ordered).toHaveLength(depth);
    expect(ordered.every((s, i) => s.depth === i && s.spanId === `s${i}`)).toBe(true);
  });
});
