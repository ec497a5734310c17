import { randomBytes } from "node:crypto";
import type { OutgoingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { extractTraceContext, injectTraceContext, parseTraceparent, parseTracestate, sampleTraceId } from "./trace-context.ts";

const TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
const SPAN_ID = "e457b5a2e4d86bd1";
const never = () => false;
const always = () => true;

const extract = (headers: Record<string, string | string[]>, decide: (traceId: string) => boolean = never) => extractTraceContext(headers, decide);

describe("W3C traceparent", () => {
  it("reads version 00 with its sampled flag, and tracestate", () => {
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: "vendor=x" })).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: true, traceState: "vendor=x", remote: true });
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` })).toMatchObject({ sampled: false, traceState: undefined });
    // Only bit 0 means sampled; the other bits are not ours to read.
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-03`)?.sampled).toBe(true);
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-02`)?.sampled).toBe(false);
  });

  it("accepts a future version by its first four fields, with or without more after a dash", () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01`)).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: true });
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds`)).toMatchObject({ traceId: TRACE_ID, sampled: true });
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01.more`)).toBeNull();
  });

  it.each([
    ["version ff", `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ["version 00 with more after the flags", `00-${TRACE_ID}-${SPAN_ID}-01-extra`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${SPAN_ID}-01`],
    ["an all-zero parent id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
    ["uppercase hex", `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ["uppercase flags", `00-${TRACE_ID}-${SPAN_ID}-0A`],
    ["a short trace id", `00-${TRACE_ID.slice(2)}-${SPAN_ID}-01`],
    ["a missing dash", `00-${TRACE_ID}${SPAN_ID}-01`],
    ["a non-hex version", `0x-${TRACE_ID}-${SPAN_ID}-01`],
    ["nothing", ""],
  ])("is invalid with %s", (_case, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it("is invalid when repeated, and an invalid one starts a new trace unless B3 came too", () => {
    expect(parseTraceparent([`00-${TRACE_ID}-${SPAN_ID}-01`, `00-${TRACE_ID}-${SPAN_ID}-01`])).toBeNull();
    expect(extract({ traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01` })).toBeNull();
    expect(extract({ traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01`, b3: `${TRACE_ID}-${SPAN_ID}-1` })).toMatchObject({ traceId: TRACE_ID, sampled: true });
  });
});

describe("W3C tracestate", () => {
  it("keeps valid members in order, trimmed, and drops invalid ones and repeated keys", () => {
    expect(parseTracestate("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")).toBe("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(parseTracestate("Upper=x,ok=1,=novalue,noequals,bad=tab\there,tenant@sys=v,ok=2")).toBe("ok=1,tenant@sys=v");
    expect(parseTracestate(["a=1", "b=2"])).toBe("a=1,b=2");
    expect(parseTracestate("a=b=c, d=\u00e9")).toBeUndefined();
  });

  it("keeps at most 32 members and drops a header longer than 512 characters", () => {
    const members = Array.from({ length: 40 }, (_, i) => `k${i}=v`);
    expect(parseTracestate(members.join(","))?.split(",")).toEqual(members.slice(0, 32));
    expect(parseTracestate(`a=${"x".repeat(250)},b=${"y".repeat(250)},c=${"z".repeat(20)}`)).toBeUndefined();
  });
});

describe("B3", () => {
  it("reads the single header: 128- and 64-bit trace ids, sampling 1, 0 and d, an optional parent id", () => {
    expect(extract({ b3: `${TRACE_ID}-${SPAN_ID}-1` })).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: true, traceState: undefined, remote: true });
    expect(extract({ b3: `a3ce929d0e0e4736-${SPAN_ID}-0` })).toMatchObject({ traceId: "0000000000000000a3ce929d0e0e4736", sampled: false });
    expect(extract({ b3: `${TRACE_ID}-${SPAN_ID}-d-00f067aa0ba902b7` })).toMatchObject({ sampled: true });
  });

  it("settles a deferred decision (no sampling state) with `decide`, keyed on the trace id", () => {
    const asked: string[] = [];
    const decide = (traceId: string) => (asked.push(traceId), true);
    expect(extract({ b3: `${TRACE_ID}-${SPAN_ID}` }, decide)?.sampled).toBe(true);
    expect(extract({ "x-b3-traceid": TRACE_ID, "x-b3-spanid": SPAN_ID }, decide)?.sampled).toBe(true);
    expect(asked).toEqual([TRACE_ID, TRACE_ID]);
    expect(extract({ b3: `${TRACE_ID}-${SPAN_ID}` }, never)?.sampled).toBe(false);
  });

  it.each([
    ["a lone sampling state", "0"],
    ["an unknown sampling state", `${TRACE_ID}-${SPAN_ID}-x`],
    ["an all-zero trace id", `${"0".repeat(16)}-${SPAN_ID}-1`],
    ["a 20-digit trace id", `${TRACE_ID.slice(0, 20)}-${SPAN_ID}-1`],
    ["a bad parent id", `${TRACE_ID}-${SPAN_ID}-1-xyz`],
    ["too many fields", `${TRACE_ID}-${SPAN_ID}-1-${SPAN_ID}-1`],
  ])("ignores a single header with %s", (_case, b3) => {
    expect(extract({ b3 }, always)).toBeNull();
  });

  it("reads the multi headers: sampled 1/0/true/false and the debug flag", () => {
    const ids = { "x-b3-traceid": TRACE_ID, "x-b3-spanid": SPAN_ID };
    expect(extract({ ...ids, "x-b3-sampled": "1" })).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: true, traceState: undefined, remote: true });
    expect(extract({ ...ids, "x-b3-sampled": "true" })?.sampled).toBe(true);
    expect(extract({ ...ids, "x-b3-sampled": "0" }, always)?.sampled).toBe(false);
    expect(extract({ ...ids, "x-b3-sampled": "false" }, always)?.sampled).toBe(false);
    expect(extract({ ...ids, "x-b3-flags": "1" })?.sampled).toBe(true);
    expect(extract({ "x-b3-traceid": "a3ce929d0e0e4736", "x-b3-spanid": SPAN_ID, "x-b3-sampled": "1" })?.traceId).toBe("0000000000000000a3ce929d0e0e4736");
    expect(extract({ ...ids, "x-b3-sampled": "maybe" })).toBeNull();
    expect(extract({ "x-b3-traceid": TRACE_ID, "x-b3-spanid": "0".repeat(16), "x-b3-sampled": "1" })).toBeNull();
    expect(extract({ "x-b3-traceid": TRACE_ID })).toBeNull();
  });

  it("yields to W3C when both arrive, and the single header to nothing but W3C", () => {
    const other = "11111111111111111111111111111111";
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, b3: `${other}-${SPAN_ID}-1` })?.traceId).toBe(TRACE_ID);
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`, "x-b3-traceid": other, "x-b3-spanid": SPAN_ID, "x-b3-sampled": "1" })).toMatchObject({ traceId: TRACE_ID, sampled: false });
    expect(extract({ b3: `${TRACE_ID}-${SPAN_ID}-1`, "x-b3-traceid": other, "x-b3-spanid": SPAN_ID })?.traceId).toBe(TRACE_ID);
    expect(extract({})).toBeNull();
  });
});

describe("injectTraceContext", () => {
  it("writes W3C traceparent, and tracestate when the trace has one", () => {
    const headers: OutgoingHttpHeaders = {};
    injectTraceContext({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: true, traceState: undefined, remote: false }, headers);
    expect(headers).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
    injectTraceContext({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: false, traceState: "vendor=x", remote: false }, headers);
    expect(headers).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`, tracestate: "vendor=x" });
  });

  it("turns a B3 context into the W3C one it names", () => {
    const headers: OutgoingHttpHeaders = {};
    const context = extract({ b3: `a3ce929d0e0e4736-${SPAN_ID}-1` });
    if (context === null) throw new Error("no context");
    injectTraceContext(context, headers);
    expect(headers.traceparent).toBe(`00-0000000000000000a3ce929d0e0e4736-${SPAN_ID}-01`);
  });
});

describe("sampleTraceId", () => {
  it("samples nothing at 0, everything at 1, about the ratio between, the same way for the same trace id", () => {
    const ids = Array.from({ length: 4_000 }, () => randomBytes(16).toString("hex"));
    expect(ids.filter((id) => sampleTraceId(id, 0)).length).toBe(0);
    expect(ids.filter((id) => sampleTraceId(id, 1)).length).toBe(ids.length);
    const decisions = ids.map((id) => sampleTraceId(id, 0.25));
    const share = decisions.filter(Boolean).length / ids.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
    expect(ids.map((id) => sampleTraceId(id, 0.25))).toEqual(decisions);
  });

  it("decides as OpenTelemetry's TraceIdRatioBased sampler does", () => {
    // XOR of the four words: 0x00000001 ^ 0 ^ 0 ^ 0 = 1, below any ratio's bound but 0; 0xffffffff only at 1.
    expect(sampleTraceId(`00000001${"0".repeat(24)}`, 0.000001)).toBe(true);
    expect(sampleTraceId(`ffffffff${"0".repeat(24)}`, 0.999999)).toBe(false);
    expect(sampleTraceId(`ffffffff${"0".repeat(24)}`, 1)).toBe(true);
  });
});
