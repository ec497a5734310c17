import { describe, expect, it } from "vitest";
import { parseUpstreams } from "./upstreams.ts";

describe("parseUpstreams", () => {
  it("reads service=port pairs, tolerating spaces and a trailing comma", () => {
    expect(parseUpstreams(" catalog-service=9301, order-service = 9302,")).toEqual({
      ok: true,
      upstreams: [
        { service: "catalog-service", port: 9301 },
        { service: "order-service", port: 9302 },
      ],
    });
  });

  it("treats an empty value as no upstreams", () => {
    expect(parseUpstreams("")).toEqual({ ok: true, upstreams: [] });
  });

  it.each([
    ["catalog-service", /must look like <service>=<port>/],
    ["catalog-service=abc", /must look like <service>=<port>/],
    ["Catalog=9301", /"Catalog" is not a service name/],
    ["catalog=70000", /port 70000 is outside 1-65535/],
    ["catalog=0", /port 0 is outside/],
    ["catalog=9301,catalog=9302", /lists "catalog" twice/],
    ["catalog=9301,orders=9301", /port 9301 to both "catalog" and "orders"/],
  ])("rejects %s with a message naming the problem", (value, message) => {
    const result = parseUpstreams(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(message);
  });
});
