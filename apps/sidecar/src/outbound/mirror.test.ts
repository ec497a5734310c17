import { describe, expect, it } from "vitest";
import { shadowHost } from "./mirror.ts";

describe("shadowHost", () => {
  it("suffixes the host name, keeping a port after it", () => {
    expect(shadowHost("order-service")).toBe("order-service-shadow");
    expect(shadowHost("order-service:8080")).toBe("order-service-shadow:8080");
    expect(shadowHost("[::1]")).toBe("[::1]-shadow");
  });
});
