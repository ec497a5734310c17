// Trace context across hops, as Istio's proxies do it with apps that speak either format: W3C traceparent and
// tracestate (https://www.w3.org/TR/trace-context/) or B3 (https://github.com/openzipkin/b3-propagation, the single
// `b3` header or the x-b3-* ones) accepted, W3C preferred when both came, W3C written. Parsing follows the specs'
// validity rules, so a malformed header starts a new trace instead of joining a broken one.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/** A position in a trace: the caller's (extracted, `remote`) or a span started here. */
export type TraceContext = {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  readonly sampled: boolean;
  /** W3C tracestate (its valid members), carried along the trace unchanged. */
  readonly traceState: string | undefined;
  readonly remote: boolean;
};

const INVALID_TRACE_ID = "00000000000000000000000000000000";
const INVALID_SPAN_ID = "0000000000000000";
const TRACEPARENT_LENGTH = 55;

/**
 * The caller's context: a valid W3C traceparent (with its tracestate) first, then B3 single, then B3 multi; null
 * when none is valid, and a new trace starts here. A B3 caller that deferred the sampling decision (no sampling
 * state) gets `decide`'s answer for its trace id.
 */
export function extractTraceContext(headers: IncomingHttpHeaders, decide: (traceId: string) => boolean): TraceContext | null {
  const traceparent = headers.traceparent;
  if (traceparent !== undefined) {
    const context = parseTraceparent(traceparent, headers.tracestate);
    if (context !== null) return context;
  }
  const b3 = headers.b3;
  if (b3 !== undefined) {
    const context = parseB3Single(b3, decide);
    if (context !== null) return context;
  }
  if (headers["x-b3-traceid"] === undefined) return null;
  return parseB3Multi(headers, decide);
}

/** traceparent (version 00) and, when there is one, tracestate for `context`. Incoming B3 headers are left as they are. */
export function injectTraceContext(context: TraceContext, headers: OutgoingHttpHeaders): void {
  headers.traceparent = `00-${context.traceId}-${context.spanId}-${context.sampled ? "01" : "00"}`;
  if (context.traceState !== undefined) headers.tracestate = context.traceState;
}

/**
 * W3C traceparent: version-traceid-parentid-flags, lowercase hex. Version ff is invalid; 00 is exactly 55
 * characters; a later version is parsed by its first four fields (anything after them follows a "-"), as the spec
 * asks of a version-00 parser. Only the sampled flag (bit 0) is read. Repeated headers make it invalid.
 */
export function parseTraceparent(header: string | string[], tracestate?: string | string[]): TraceContext | null {
  if (typeof header !== "string" || header.length < TRACEPARENT_LENGTH) return null;
  if (header.charCodeAt(2) !== DASH || header.charCodeAt(35) !== DASH || header.charCodeAt(52) !== DASH) return null;
  if (!isLowerHex(header, 0, 2) || !isLowerHex(header, 3, 35) || !isLowerHex(header, 36, 52) || !isLowerHex(header, 53, 55)) return null;
  if (header.startsWith("ff")) return null;
  if (header.startsWith("00") ? header.length !== TRACEPARENT_LENGTH : header.length > TRACEPARENT_LENGTH && header.charCodeAt(TRACEPARENT_LENGTH) !== DASH) return null;
  const traceId = header.slice(3, 35);
  const spanId = header.slice(36, 52);
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return null;
  const sampled = (hexValue(header.charCodeAt(54)) & 1) === 1;
  return { traceId, spanId, sampled, traceState: tracestate === undefined ? undefined : parseTracestate(tracestate), remote: true };
}

const MAX_TRACESTATE_LENGTH = 512;
const MAX_TRACESTATE_MEMBERS = 32;
// Keys: a simple key, or a multi-tenant tenant@system key. Values: printable ASCII but "," and "=", not ending in a space.
const TRACESTATE_KEY = /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * W3C tracestate: its valid list members in order (invalid ones and repeated keys dropped, at most 32), or
 * undefined when none is valid or the header is longer than the spec's 512 characters. Repeated headers are one list.
 */
export function parseTracestate(header: string | string[]): string | undefined {
  const value = typeof header === "string" ? header : header.join(",");
  if (value.length > MAX_TRACESTATE_LENGTH) return undefined;
  const kept: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(",")) {
    const member = raw.trim();
    const eq = member.indexOf("=");
    if (eq <= 0) continue;
    const key = member.slice(0, eq);
    if (keys.has(key) || !TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.slice(eq + 1))) continue;
    keys.add(key);
    kept.push(member);
    if (kept.length === MAX_TRACESTATE_MEMBERS) break;
  }
  return kept.length === 0 ? undefined : kept.join(",");
}

/**
 * B3 single header: traceid-spanid[-sampling[-parentspanid]], 16- or 32-digit trace id (a 64-bit one is
 * left-padded with zeros), sampling "1", "0" or "d" (debug, sampled). A lone sampling state carries no trace to
 * join and is ignored, as OpenTelemetry's B3 propagator does.
 */
export function parseB3Single(header: string | string[], decide: (traceId: string) => boolean): TraceContext | null {
  if (typeof header !== "string") return null;
  const parts = header.split("-");
  if (parts.length < 2 || parts.length > 4) return null;
  const [rawTraceId = "", spanId = "", sampling, parentSpanId] = parts;
  const traceId = toTraceId128(rawTraceId);
  if (traceId === null || !isSpanId(spanId)) return null;
  if (parentSpanId !== undefined && !isSpanId(parentSpanId)) return null;
  const sampled = sampling === undefined ? decide(traceId) : sampling === "1" || sampling === "d" ? true : sampling === "0" ? false : null;
  if (sampled === null) return null;
  return { traceId, spanId, sampled, traceState: undefined, remote: true };
}

/** B3 multi headers: x-b3-traceid, x-b3-spanid, x-b3-sampled ("1"/"0", or "true"/"false" from old tracers), x-b3-flags "1" (debug). */
export function parseB3Multi(headers: IncomingHttpHeaders, decide: (traceId: string) => boolean): TraceContext | null {
  const rawTraceId = headers["x-b3-traceid"];
  const spanId = headers["x-b3-spanid"];
  if (typeof rawTraceId !== "string" || typeof spanId !== "string") return null;
  const traceId = toTraceId128(rawTraceId);
  if (traceId === null || !isSpanId(spanId)) return null;
  const flags = headers["x-b3-flags"];
  const sampledHeader = headers["x-b3-sampled"];
  let sampled: boolean;
  if (flags === "1" || sampledHeader === "1" || sampledHeader === "true") sampled = true;
  else if (sampledHeader === "0" || sampledHeader === "false") sampled = false;
  else if (sampledHeader === undefined) sampled = decide(traceId);
  else return null;
  return { traceId, spanId, sampled, traceState: undefined, remote: true };
}

/**
 * OpenTelemetry's TraceIdRatioBased decision (the four 32-bit words of the trace id XORed, against the ratio of
 * 2^32 - 1), so every hop that decides for the same trace at the same ratio decides alike.
 */
export function sampleTraceId(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  let accumulated = 0;
  for (let i = 0; i < 32; i += 8) accumulated = (accumulated ^ Number.parseInt(traceId.slice(i, i + 8), 16)) >>> 0;
  return accumulated < Math.floor(ratio * 0xffffffff);
}

const DASH = 45;

function toTraceId128(value: string): string | null {
  if (value.length === 16 && isLowerHex(value, 0, 16)) return value === INVALID_SPAN_ID ? null : `0000000000000000${value}`;
  if (value.length === 32 && isLowerHex(value, 0, 32)) return value === INVALID_TRACE_ID ? null : value;
  return null;
}

function isSpanId(value: string): boolean {
  return value.length === 16 && isLowerHex(value, 0, 16) && value !== INVALID_SPAN_ID;
}

function isLowerHex(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) {
    if (hexValue(value.charCodeAt(i)) < 0) return false;
  }
  return true;
}

/** 0–15 for 0-9 and a-f; -1 for anything else (uppercase included: both specs ask for lowercase). */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}
