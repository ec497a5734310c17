// Left-to-right layered layout for a call graph: callers left of callees (entry points on the left, leaves on the
// right), nodes in a column ordered to reduce crossings. Pure and deterministic in the topology alone, so the same
// services and calls always land in the same places however often the rates refresh.

export type LayoutEdge = { source: string; target: string };

export type LayoutOptions = {
  /** Preferred drawing width; the layout grows past it when the columns would not fit. */
  width: number;
  /** Minimum drawing height. */
  minHeight?: number;
  nodeWidth?: number;
  nodeHeight?: number;
  /** Vertical distance between node centres in a column. */
  rowGap?: number;
  /** Bounds on the horizontal distance between column centres. */
  minColumnGap?: number;
  maxColumnGap?: number;
  margin?: number;
};

export type PositionedNode = { id: string; x: number; y: number; layer: number; order: number };

export type GraphLayout = {
  nodes: Map<string, PositionedNode>;
  width: number;
  height: number;
  layerCount: number;
  /** Edges that close a cycle (drawn as a loop back, not used for layering). */
  backEdges: Set<string>;
};

export const edgeKey = (edge: LayoutEdge): string => `${edge.source}->${edge.target}`;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function layoutLayeredGraph(nodeIds: readonly string[], edges: readonly LayoutEdge[], options: LayoutOptions): GraphLayout {
  const nodeWidth = options.nodeWidth ?? 168;
  const nodeHeight = options.nodeHeight ?? 46;
  const rowGap = options.rowGap ?? nodeHeight + 40;
  const margin = options.margin ?? 24;
  const minColumnGap = options.minColumnGap ?? nodeWidth + 72;
  const maxColumnGap = options.maxColumnGap ?? nodeWidth + 200;

  const ids = [...new Set(nodeIds)].sort(compareText);
  const known = new Set(ids);
  const validEdges = dedupeEdges(edges.filter((e) => known.has(e.source) && known.has(e.target) && e.source !== e.target));
  const backEdges = findBackEdges(ids, validEdges);
  const forward = validEdges.filter((e) => !backEdges.has(edgeKey(e)));

  const layerOf = assignLayers(ids, forward);
  const layerCount = ids.length === 0 ? 0 : Math.max(...ids.map((id) => layerOf.get(id) ?? 0)) + 1;
  const columns = orderColumns(ids, forward, layerOf, layerCount);

  const gaps = layerCount > 1 ? (options.width - 2 * margin - nodeWidth) / (layerCount - 1) : 0;
  const columnGap = Math.min(maxColumnGap, Math.max(minColumnGap, gaps));
  const contentWidth = (layerCount - 1) * columnGap + nodeWidth;
  const width = Math.max(options.width, contentWidth + 2 * margin);
  const tallest = Math.max(0, ...columns.map((column) => column.length));
  const contentHeight = tallest === 0 ? 0 : (tallest - 1) * rowGap + nodeHeight;
  const height = Math.max(options.minHeight ?? 0, contentHeight + 2 * margin);
  const left = (width - contentWidth) / 2 + nodeWidth / 2;

  const nodes = new Map<string, PositionedNode>();
  columns.forEach((column, layer) => {
    column.forEach((id, order) => {
      nodes.set(id, { id, layer, order, x: left + layer * columnGap, y: height / 2 + (order - (column.length - 1) / 2) * rowGap });
    });
  });
  return { nodes, width, height, layerCount, backEdges };
}

function dedupeEdges(edges: LayoutEdge[]): LayoutEdge[] {
  const seen = new Map<string, LayoutEdge>();
  for (const edge of edges) seen.set(edgeKey(edge), { source: edge.source, target: edge.target });
  return [...seen.values()].sort((a, b) => compareText(edgeKey(a), edgeKey(b)));
}

/** Depth-first from the entry points (then anything left), in id order: an edge back onto the stack closes a cycle. */
function findBackEdges(ids: string[], edges: LayoutEdge[]): Set<string> {
  const outgoing = adjacency(ids, edges, "source");
  const hasIncoming = new Set(edges.map((e) => e.target));
  const state = new Map<string, "active" | "done">();
  const back = new Set<string>();
  const visit = (id: string) => {
    state.set(id, "active");
    for (const next of outgoing.get(id) ?? []) {
      const s = state.get(next);
      if (s === "active") back.add(`${id}->${next}`);
      else if (s === undefined) visit(next);
    }
    state.set(id, "done");
  };
  for (const id of ids) if (!hasIncoming.has(id) && !state.has(id)) visit(id);
  for (const id of ids) if (!state.has(id)) visit(id);
  return back;
}

/** Longest path from the entry points, then each entry point moved right next to its nearest callee. */
function assignLayers(ids: string[], edges: LayoutEdge[]): Map<string, number> {
  const outgoing = adjacency(ids, edges, "source");
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const edge of edges) indegree.set(edge.target, (indegree.get(edge.target) ?? 0) + 1);
  const layer = new Map(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string; // the loop condition guarantees an element
    order.push(id);
    for (const next of outgoing.get(id) ?? []) {
      layer.set(next, Math.max(layer.get(next) ?? 0, (layer.get(id) ?? 0) + 1));
      const remaining = (indegree.get(next) ?? 0) - 1;
      indegree.set(next, remaining);
      if (remaining === 0) queue.push(next);
    }
  }
  const hasIncoming = new Set(edges.map((e) => e.target));
  for (const id of order.reverse()) {
    const targets = outgoing.get(id) ?? [];
    if (hasIncoming.has(id) || targets.length === 0) continue;
    layer.set(id, Math.max(layer.get(id) ?? 0, Math.min(...targets.map((t) => layer.get(t) ?? 0)) - 1));
  }
  return layer;
}

/** Columns ordered by the barycentre of their neighbours, sweeping right then left a few times; ties by id. */
function orderColumns(ids: string[], edges: LayoutEdge[], layerOf: Map<string, number>, layerCount: number): string[][] {
  const columns: string[][] = Array.from({ length: layerCount }, () => []);
  for (const id of ids) columns[layerOf.get(id) ?? 0]?.push(id);
  const callers = adjacency(ids, edges, "target");
  const callees = adjacency(ids, edges, "source");
  const position = new Map<string, number>();
  // Positions are offsets from the column's middle, since columns are centred vertically and differ in length.
  const remember = () => columns.forEach((column) => column.forEach((id, i) => position.set(id, i - (column.length - 1) / 2)));
  remember();
  const sortBy = (column: string[], neighbours: Map<string, string[]>) => {
    const centre = (id: string) => {
      const placed = (neighbours.get(id) ?? []).map((n) => position.get(n)).filter((p): p is number => p !== undefined);
      return placed.length === 0 ? (position.get(id) ?? 0) : placed.reduce((a, b) => a + b, 0) / placed.length;
    };
    const keyed = column.map((id) => ({ id, key: centre(id) }));
    keyed.sort((a, b) => a.key - b.key || compareText(a.id, b.id));
    keyed.forEach(({ id }, i) => {
      column[i] = id;
      position.set(id, i - (column.length - 1) / 2);
    });
  };
  for (let sweep = 0; sweep < 4; sweep += 1) {
    for (let layer = 1; layer < layerCount; layer += 1) sortBy(columns[layer] ?? [], callers);
    for (let layer = layerCount - 2; layer >= 0; layer -= 1) sortBy(columns[layer] ?? [], callees);
  }
  return columns;
}

function adjacency(ids: string[], edges: LayoutEdge[], from: "source" | "target"): Map<string, string[]> {
  const map = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const edge of edges) map.get(edge[from])?.push(from === "source" ? edge.target : edge.source);
  return map;
}
