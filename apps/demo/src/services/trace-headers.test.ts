import { describe, expect, it } from "vitest";
import { pickTraceHeaders } from "./trace-headers.ts";

describe("pickTraceHeaders", () => {
  it("keeps W3C, request-id and B3 headers and drops everything else", () => {
    expect(
      pickTraceHeaders({
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate: "vendor=1",
        "x-request-id": "r-1",
        b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
        "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
        "x-b3-sampled": "1",
        cookie: "session=secret",
        host: "frontend",
      }),
    ).toEqual({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "vendor=1",
      "x-request-id": "r-1",
      b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
      "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
      "x-b3-sampled": "1",
    });
  });

  it("returns nothing when no trace came in (the sidecar starts one)", () => {
    expect(pickTraceHeaders({ accept: "*/*" })).toEqual({});
  });
});
