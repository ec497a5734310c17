import { trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import type { OutgoingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { createTracerProvider, extractContext, injectContext } from "./traces.ts";

const TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
const SPAN_ID = "e457b5a2e4d86bd1";

function extracted(headers: Record<string, string>) {
  return trace.getSpanContext(extractContext(headers));
}

describe("extractContext", () => {
  it("reads W3C traceparent and tracestate", () => {
    const context = extracted({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: "vendor=x" });
    expect(context).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    expect(context?.traceState?.get("vendor")).toBe("x");
  });

  it("reads B3 multi-header", () => {
    const context = extracted({ "x-b3-traceid": TRACE_ID, "x-b3-spanid": SPAN_ID, "x-b3-sampled": "1" });
    expect(context).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
  });

  it("reads B3 single header, including a 64-bit trace id and a not-sampled decision", () => {
    expect(extracted({ b3: `${TRACE_ID}-${SPAN_ID}-1` })).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    expect(extracted({ b3: `a3ce929d0e0e4736-${SPAN_ID}-0` })).toMatchObject({ traceId: "0000000000000000a3ce929d0e0e4736", traceFlags: 0 });
  });

  it("prefers W3C when both kinds arrive, and starts fresh when none does", () => {
    const other = "11111111111111111111111111111111";
    expect(extracted({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, b3: `${other}-${SPAN_ID}-1` })?.traceId).toBe(TRACE_ID);
    expect(extracted({})).toBeUndefined();
  });
});

describe("injectContext", () => {
  it("writes W3C only, whatever came in", () => {
    const headers: OutgoingHttpHeaders = {};
    injectContext(extractContext({ b3: `${TRACE_ID}-${SPAN_ID}-1` }), headers);
    expect(headers).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
  });
});

describe("createTracerProvider sampling", () => {
  function countSampled(ratio: number, parentHeaders: Record<string, string>): number {
    const memory = new InMemorySpanExporter();
    const provider = createTracerProvider({
      resource: resourceFromAttributes({}),
      otlpEndpoint: "http://127.0.0.1:9",
      otlpHeaders: {},
      samplingRatio: ratio,
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
      onDrop: () => {},
    });
    const tracer = provider.getTracer("test");
    for (let i = 0; i < 50; i += 1) tracer.startSpan("GET", {}, extractContext(parentHeaders)).end();
    const sampled = memory.getFinishedSpans().length;
    // Its OTLP processor has nowhere to send (port 9), so the final flush fails; only the in-memory spans matter here.
    provider.shutdown().catch(() => {});
    return sampled;
  }

  it("samples no new traces at 0 and every one at 1", () => {
    expect(countSampled(0, {})).toBe(0);
    expect(countSampled(1, {})).toBe(50);
  });

  it("keeps the caller's decision whatever the ratio", () => {
    expect(countSampled(0, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` })).toBe(50);
    expect(countSampled(1, { b3: `${TRACE_ID}-${SPAN_ID}-0` })).toBe(0);
  });
});

