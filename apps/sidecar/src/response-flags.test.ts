import { describe, expect, it } from "vitest";
import { faultAbortReply, flagForUpstreamError, isErrorStatus, localReply } from "./response-flags.ts";

describe("response flags", () => {
  it("answers 404 for no route and 503 for the upstream failures", () => {
    expect(localReply("NR", "upstream x").status).toBe(404);
    expect(localReply("UH", "cluster x is empty").status).toBe(503);
    expect(localReply("UF", "ECONNREFUSED").status).toBe(503);
    expect(localReply("UC", "socket hang up").status).toBe(503);
    expect(localReply("UT", "route timeout 100 ms").status).toBe(504);
  });

  it("answers a fault abort with the configured status and the FI flag", () => {
    expect(faultAbortReply(418, "order-service")).toMatchObject({ status: 418, flag: "FI" });
  });

  it("puts the reason in the body", () => {
    expect(localReply("UH", "cluster order-service has no endpoints").body).toBe("no healthy upstream: cluster order-service has no endpoints\n");
  });

  it("calls an error before the connection was made a connect failure, after it a termination", () => {
    expect(flagForUpstreamError({ connected: false })).toBe("UF");
    expect(flagForUpstreamError({ connected: true })).toBe("UC");
  });

  it("marks 5xx and missing responses as errors, not 4xx", () => {
    expect(isErrorStatus(503)).toBe(true);
    expect(isErrorStatus(null)).toBe(true);
    expect(isErrorStatus(404)).toBe(false);
    expect(isErrorStatus(200)).toBe(false);
  });
});
