// The graph layout is what makes the dashboard readable at a glance: callers left of callees, nothing overlapping,
// and the same picture on every refresh.
import { describe, expect, it } from "vitest";
import { layoutLayeredGraph, type LayoutEdge } from "./layout.ts";

const shopNodes = [
  "gateway@v1",
  "frontend@v1",
  "catalog-service@v1",
  "order-service@v1",
  "order-service@v2",
  "payment-service@v1",
  "inventory-service@v1",
];
const shopEdges: LayoutEdge[] = [
  { source: "gateway@v1", target: "frontend@v1" },
  { source: "frontend@v1", target: "catalog-service@v1" },
  { source: "frontend@v1", target: "order-service@v1" },
  { source: "frontend@v1", target: "order-service@v2" },
  { source: "order-service@v1", target: "payment-service@v1" },
  { source: "order-service@v1", target: "inventory-service@v1" },
  { source: "order-service@v2", target: "payment-service@v1" },
  { source: "order-service@v2", target: "inventory-service@v1" },
];

function layers(layout: ReturnType<typeof layoutLayeredGraph>): Record<string, number> {
  return Object.fromEntries([...layout.nodes.values()].map((n) => [n.id, n.layer]));
}

describe("layoutLayeredGraph", () => {
  it("puts the entry point on the left and the leaves on the right", () => {
    const layout = layoutLayeredGraph(shopNodes, shopEdges, { width: 1000 });
    expect(layers(layout)).toEqual({
      "gateway@v1": 0,
      "frontend@v1": 1,
      "catalog-service@v1": 2,
      "order-service@v1": 2,
      "order-service@v2": 2,
      "inventory-service@v1": 3,
      "payment-service@v1": 3,
    });
    for (const edge of shopEdges) {
      expect(layout.nodes.get(edge.source)?.x ?? 0).toBeLessThan(layout.nodes.get(edge.target)?.x ?? 0);
    }
    expect(layout.layerCount).toBe(4);
  });

  it("keeps nodes of a column apart and inside the drawing", () => {
    const layout = layoutLayeredGraph(shopNodes, shopEdges, { width: 1000, nodeWidth: 168, nodeHeight: 46 });
    const column = [...layout.nodes.values()].filter((n) => n.layer === 2).sort((a, b) => a.y - b.y);
    expect(column).toHaveLength(3);
    for (let i = 1; i < column.length; i += 1) expect((column[i]?.y ?? 0) - (column[i - 1]?.y ?? 0)).toBeGreaterThanOrEqual(46);
    for (const node of layout.nodes.values()) {
      expect(node.x - 84).toBeGreaterThanOrEqual(0);
      expect(node.x + 84).toBeLessThanOrEqual(layout.width);
      expect(node.y - 23).toBeGreaterThanOrEqual(0);
      expect(node.y + 23).toBeLessThanOrEqual(layout.height);
    }
  });

  it("keeps the two versions of a service next to each other", () => {
    const layout = layoutLayeredGraph(shopNodes, shopEdges, { width: 1000 });
    const v1 = layout.nodes.get("order-service@v1")?.order ?? -10;
    const v2 = layout.nodes.get("order-service@v2")?.order ?? 10;
    expect(Math.abs(v1 - v2)).toBe(1);
  });

  it("gives the same positions whatever order the nodes and edges arrive in", () => {
    const a = layoutLayeredGraph(shopNodes, shopEdges, { width: 1000 });
    const b = layoutLayeredGraph([...shopNodes].reverse(), [...shopEdges].reverse(), { width: 1000 });
    expect([...b.nodes.values()].sort((x, y) => x.id.localeCompare(y.id))).toEqual([...a.nodes.values()].sort((x, y) => x.id.localeCompare(y.id)));
  });

  it("moves a caller that receives nothing next to the service it calls", () => {
    const layout = layoutLayeredGraph([...shopNodes, "cron-job@v1"], [...shopEdges, { source: "cron-job@v1", target: "catalog-service@v1" }], { width: 1000 });
    expect(layout.nodes.get("cron-job@v1")?.layer).toBe(1);
  });

  it("survives a cycle: one edge is set aside as a back edge and the rest is layered", () => {
    const edges = [
      { source: "a", target: "b" },
      { source: "b", target: "c" },
      { source: "c", target: "a" },
    ];
    const layout = layoutLayeredGraph(["a", "b", "c"], edges, { width: 800 });
    expect(layout.backEdges).toEqual(new Set(["c->a"]));
    expect(layers(layout)).toEqual({ a: 0, b: 1, c: 2 });
  });

  it("ignores self calls and edges to unknown nodes, and lays out isolated nodes in the first column", () => {
    const layout = layoutLayeredGraph(["solo", "x"], [{ source: "x", target: "x" }, { source: "x", target: "ghost" }], { width: 800 });
    expect(layers(layout)).toEqual({ solo: 0, x: 0 });
    expect(layout.backEdges.size).toBe(0);
  });

  it("widens the drawing instead of overlapping columns", () => {
    const layout = layoutLayeredGraph(shopNodes, shopEdges, { width: 300, nodeWidth: 168, minColumnGap: 240 });
    expect(layout.width).toBeGreaterThanOrEqual(3 * 240 + 168);
  });

  it("is empty for an empty graph", () => {
    const layout = layoutLayeredGraph([], [], { width: 800, minHeight: 200 });
    expect(layout.nodes.size).toBe(0);
    expect(layout.height).toBe(200);
  });
});
