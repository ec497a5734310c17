import { describe, expect, it } from "vitest";
import { parseUpstreams } from "./upstreams.ts";

describe("parseUpstreams", () => {
  it("reads service=port pairs, tolerating spaces and a trailing comma", () => {
    expect(parseUpstreams(" catalog-service=9301, order-service = 9302,")).toEqual({
      ok: true,
      upstreams: [
        { service: "catalog-service", port: 9301, protocol: "http" },
        { service: "order-service", port: 9302, protocol: "http" },
      ],
    });
  });

  it("reads a /tcp or /http suffix and accepts ':' as the separator", () => {
    expect(parseUpstreams("redis:6379/tcp,catalog-service=9301/http,db = 5432 / TCP")).toEqual({
      ok: true,
      upstreams: [
        { service: "redis", port: 6379, protocol: "tcp" },
        { service: "catalog-service", port: 9301, protocol: "http" },
        { service: "db", port: 5432, protocol: "tcp" },
      ],
    });
  });

  it("treats an empty value as no upstreams", () => {
    expect(parseUpstreams("")).toEqual({ ok: true, upstreams: [] });
  });

  it.each([
    ["catalog-service", /must look like <service>=<port>/],
    ["catalog-service=abc", /must look like <service>=<port>/],
    ["redis=6379/tcp/x", /must look like <service>=<port>/],
    ["Catalog=9301", /"Catalog" is not a service name/],
    ["catalog=70000", /port 70000 is outside 1-65535/],
    ["catalog=0", /port 0 is outside/],
    ["redis=6379/udp", /protocol "udp" is unknown; use \/tcp/],
    ["redis=6379/", /protocol "" is unknown/],
    ["catalog=9301,catalog=9302", /lists "catalog" twice/],
    ["catalog=9301,orders=9301/tcp", /port 9301 to both "catalog" and "orders"/],
  ])("rejects %s with a message naming the problem", (value, message) => {
    const result = parseUpstreams(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(message);
  });
});
