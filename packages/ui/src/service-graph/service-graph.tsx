"use client";
// The live service graph: workload versions as boxes coloured by error rate, calls as arrows whose thickness follows
// the request rate. Positions come from the layered layout and depend only on the topology, so refreshing the rates
// every few seconds never moves anything; when a service appears, the others glide to their new places.
import { linkHorizontal, scaleSqrt } from "d3";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { classifyErrorRate, errorLevelColors, type ErrorLevel } from "../error-level.ts";
import { formatMs, formatPercent, formatRate } from "../format.ts";
import { edgeKey, layoutLayeredGraph, type GraphLayout, type PositionedNode } from "./layout.ts";

export type ServiceGraphNode = { id: string; service: string; version: string | null; requestRate: number; errorRate: number };
export type ServiceGraphEdge = { source: string; target: string; requestRate: number; errorRate: number; p50Ms?: number };

export type ServiceGraphProps = {
  nodes: readonly ServiceGraphNode[];
  edges: readonly ServiceGraphEdge[];
  /** Drawing width in px; by default the width of the surrounding element. */
  width?: number;
  /** Minimum drawing height in px; by default as tall as the widest column needs. */
  height?: number;
};

type Point = [number, number];

const NODE_WIDTH = 172;
const NODE_HEIGHT = 46;
const ARROW_GAP = 2;
const LABEL_AT = 0.36;
/** Average advance of an 11px label character, for sizing the plate behind it. */
const LABEL_CHAR_WIDTH = 6.1;
const LEVELS: ErrorLevel[] = ["ok", "warning", "critical", "idle"];
const edgeStroke: Record<ErrorLevel, string> = { ok: "#8c959f", warning: "#bf8700", critical: "#cf222e", idle: "#8c959f" };
const link = linkHorizontal<{ source: Point; target: Point }, Point>();

export function ServiceGraph({ nodes, edges, width, height }: ServiceGraphProps) {
  const container = useRef<HTMLDivElement>(null);
  const measuredWidth = useContainerWidth(container, width === undefined);
  const drawingWidth = width ?? measuredWidth;
  const markerPrefix = `sg${useId().replace(/[^a-zA-Z0-9_-]/g, "")}`;

  // Keyed on the topology only (a string, compared by value): new rates re-render labels and colours but never
  // re-run the layout.
  const topologyKey = JSON.stringify([
    nodes.map((n) => n.id).sort(),
    edges.map((e) => [e.source, e.target]).sort((a, b) => (String(a) < String(b) ? -1 : 1)),
  ]);
  const layout = useMemo<GraphLayout>(() => {
    const [ids, pairs] = JSON.parse(topologyKey) as [string[], [string, string][]];
    const layoutEdges = pairs.map(([source, target]) => ({ source, target }));
    return layoutLayeredGraph(ids, layoutEdges, {
      width: drawingWidth,
      minHeight: height ?? 160,
      nodeWidth: NODE_WIDTH,
      nodeHeight: NODE_HEIGHT,
      // Room between columns for an edge label; a narrow screen gets a wider drawing, scaled down, rather than
      // labels on top of boxes.
      minColumnGap: NODE_WIDTH + 120,
    });
  }, [topologyKey, drawingWidth, height]);

  const multiVersion = useMemo(() => {
    const versions = new Map<string, Set<string | null>>();
    for (const node of nodes) versions.set(node.service, (versions.get(node.service) ?? new Set()).add(node.version));
    return new Set([...versions].filter(([, set]) => set.size > 1).map(([service]) => service));
  }, [nodes]);

  const maxRate = Math.max(0, ...edges.map((e) => e.requestRate));
  const thickness = scaleSqrt().domain([0, maxRate || 1]).range([1.25, 7]).clamp(true);

  const routed = edges.flatMap((edge) => {
    const from = layout.nodes.get(edge.source);
    const to = layout.nodes.get(edge.target);
    if (!from || !to) return [];
    const key = edgeKey(edge);
    const level = classifyErrorRate(edge.errorRate, edge.requestRate);
    return [{ edge, key, level, ...routeEdge(from, to, layout.backEdges.has(key)) }];
  });

  return (
    <div ref={container} style={{ width: "100%" }}>
      <svg
        data-testid="service-graph"
        role="img"
        aria-label={`Service graph: ${nodes.length} workloads, ${edges.length} calls`}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
        style={{ display: "block", maxWidth: "100%", height: "auto", fontFamily: "inherit" }}
      >
        <defs>
          {LEVELS.map((level) => (
            <marker
              key={level}
              id={`${markerPrefix}-${level}`}
              viewBox="0 0 10 10"
              refX={10}
              refY={5}
              markerWidth={9}
              markerHeight={9}
              markerUnits="userSpaceOnUse"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" fill={edgeStroke[level]} />
            </marker>
          ))}
        </defs>
        {nodes.length === 0 && (
          <text x={layout.width / 2} y={layout.height / 2} textAnchor="middle" fontSize={13} fill="#57606a">
            No traffic in this window
          </text>
        )}
        <g>
          {routed.map(({ edge, key, level, d }) => (
            <g key={key} data-testid={`graph-edge-${key}`} data-error-level={level}>
              <title>
                {`${edge.source} → ${edge.target}\n${formatRate(edge.requestRate)} req/s · ${formatPercent(edge.errorRate)} errors` +
                  (edge.p50Ms === undefined ? "" : ` · p50 ${formatMs(edge.p50Ms)}`)}
              </title>
              <path
                d={d}
                fill="none"
                stroke={edgeStroke[level]}
                strokeOpacity={0.9}
                strokeWidth={thickness(edge.requestRate)}
                markerEnd={`url(#${markerPrefix}-${level})`}
              />
            </g>
          ))}
        </g>
        {/* Labels in their own layer above every line, so no later edge is drawn across an earlier label. */}
        <g>
          {routed.map(({ edge, key, level, labelX, labelY }) => {
            const label = `${formatRate(edge.requestRate)} rps${edge.errorRate > 0 ? ` · ${formatPercent(edge.errorRate)}` : ""}`;
            // A plate behind the text: lines pass between glyphs, which a text halo alone does not hide.
            const plateWidth = label.length * LABEL_CHAR_WIDTH + 8;
            return (
              <g key={key} data-testid={`graph-edge-label-${key}`}>
                <rect x={labelX - plateWidth / 2} y={labelY - 8} width={plateWidth} height={15} rx={3} fill="#ffffff" fillOpacity={0.92} />
                <text
                  x={labelX}
                  y={labelY}
                  dy="0.35em"
                  textAnchor="middle"
                  fontSize={11}
                  fontWeight={500}
                  fill={level === "ok" || level === "idle" ? "#424a53" : errorLevelColors[level].text}
                >
                  {label}
                </text>
              </g>
            );
          })}
        </g>
        <g>
          {nodes.map((node) => {
            const at = layout.nodes.get(node.id);
            if (!at) return null;
            return <GraphNodeBox key={node.id} node={node} at={at} showVersion={multiVersion.has(node.service)} />;
          })}
        </g>
      </svg>
    </div>
  );
}

function GraphNodeBox({ node, at, showVersion }: { node: ServiceGraphNode; at: PositionedNode; showVersion: boolean }) {
  const level = classifyErrorRate(node.errorRate, node.requestRate);
  const colors = errorLevelColors[level];
  const name = truncate(node.service, showVersion ? 17 : 22);
  const stats = level === "idle" ? "no inbound traffic" : `${formatRate(node.requestRate)} rps · ${formatPercent(node.errorRate)} err`;
  return (
    <g
      data-testid={`graph-node-${node.id}`}
      data-error-level={level}
      style={{ transform: `translate(${at.x - NODE_WIDTH / 2}px, ${at.y - NODE_HEIGHT / 2}px)`, transition: "transform 400ms ease" }}
    >
      <title>{`${node.service}${node.version ? ` ${node.version}` : ""}\n${stats}`}</title>
      <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={7} fill={colors.fill} stroke={colors.stroke} strokeWidth={1.5} />
      <rect x={0.75} y={0.75} width={5} height={NODE_HEIGHT - 1.5} rx={3} fill={colors.stroke} />
      <text x={14} y={19} fontSize={12.5} fontWeight={600} fill="#1f2328">
        {name}
        {showVersion && node.version && (
          <tspan fontWeight={500} fill="#57606a">
            {` ${node.version}`}
          </tspan>
        )}
      </text>
      <text x={14} y={36} fontSize={11.5} fill={colors.text}>
        {stats}
      </text>
    </g>
  );
}

/** A forward call bends from the caller's right side to the callee's left; a call back to an earlier column loops below. */
function routeEdge(from: PositionedNode, to: PositionedNode, isBackEdge: boolean): { d: string; labelX: number; labelY: number } {
  if (!isBackEdge && to.x > from.x) {
    const source: Point = [from.x + NODE_WIDTH / 2, from.y];
    const target: Point = [to.x - NODE_WIDTH / 2 - ARROW_GAP, to.y];
    // The label sits a third of the way along, where calls fanning out of one caller have already parted and
    // calls converging on one callee have not yet met (d3's horizontal link is a cubic with both controls at mid-x).
    const midX = (source[0] + target[0]) / 2;
    const [labelX, labelY] = cubicAt(LABEL_AT, source, [midX, source[1]], [midX, target[1]], target);
    return { d: link({ source, target }) ?? "", labelX, labelY };
  }
  const startY = from.y + NODE_HEIGHT / 2;
  const endY = to.y + NODE_HEIGHT / 2 + ARROW_GAP;
  const dip = Math.max(startY, endY) + 48;
  return {
    d: `M${from.x},${startY} C${from.x},${dip} ${to.x},${dip} ${to.x},${endY}`,
    labelX: (from.x + to.x) / 2,
    labelY: dip - 6,
  };
}

function cubicAt(t: number, p0: Point, p1: Point, p2: Point, p3: Point): Point {
  const u = 1 - t;
  const [a, b, c, d] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return [a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]];
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Tracks an element's width (rounded, so sub-pixel jitter does not re-run the layout). */
function useContainerWidth(ref: React.RefObject<HTMLDivElement | null>, enabled: boolean): number {
  const [width, setWidth] = useState(960);
  useEffect(() => {
    const element = ref.current;
    if (!enabled || !element) return;
    const update = () => {
      const next = Math.round(element.getBoundingClientRect().width);
      if (next > 0) setWidth(next);
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref, enabled]);
  return width;
}
