import { describe, expect, it } from "vitest";
import { compileMatch, compileStringMatch, matchesAny, matchesRequest } from "./match.ts";

const compile = (match: Parameters<typeof compileMatch>[0]) => {
  const errors: string[] = [];
  const compiled = compileMatch(match, "m", errors);
  expect(errors).toEqual([]);
  return compiled;
};

describe("string matches", () => {
  it("compares exactly, by prefix, and by a regex that must match the whole value", () => {
    const errors: string[] = [];
    const exact = compileStringMatch({ exact: "/orders" }, "uri", errors);
    const prefix = compileStringMatch({ prefix: "/orders" }, "uri", errors);
    const regex = compileStringMatch({ regex: "/orders/[0-9]+" }, "uri", errors);
    expect([exact("/orders"), exact("/orders/1"), prefix("/orders/1"), prefix("/ordersx"), prefix("/order")]).toEqual([true, false, true, true, false]);
    expect([regex("/orders/12"), regex("/orders/12/items"), regex("x/orders/12")]).toEqual([true, false, false]);
    expect(errors).toEqual([]);
  });

  it("keeps alternation inside the anchors", () => {
    const regex = compileStringMatch({ regex: "GET|HEAD" }, "method", []);
    expect([regex("GET"), regex("HEAD"), regex("GETX"), regex("XHEAD")]).toEqual([true, true, false, false]);
  });

  it("reports a regex it cannot compile at its path, including one that would escape the anchoring group", () => {
    const errors: string[] = [];
    compileStringMatch({ regex: "(unclosed" }, "virtualHosts[0].routes[1].match[0].uri", errors);
    compileStringMatch({ regex: "a)|(b" }, "h", errors);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^virtualHosts\[0\]\.routes\[1\]\.match\[0\]\.uri\.regex: "\(unclosed" is not a regular expression/);
    expect(errors[1]).toMatch(/^h\.regex: "a\)\|\(b"/);
  });
});

describe("request matches", () => {
  it("needs every condition of one entry: uri, method and headers", () => {
    const match = compile({ uri: { prefix: "/api" }, method: { exact: "POST" }, headers: { "x-canary": { exact: "true" } } });
    expect(matchesRequest(match, "/api/orders", "POST", { "x-canary": "true" })).toBe(true);
    expect(matchesRequest(match, "/api/orders", "GET", { "x-canary": "true" })).toBe(false);
    expect(matchesRequest(match, "/web", "POST", { "x-canary": "true" })).toBe(false);
    expect(matchesRequest(match, "/api/orders", "POST", { "x-canary": "false" })).toBe(false);
    expect(matchesRequest(match, "/api/orders", "POST", {})).toBe(false);
  });

  it("treats header names case-insensitively (Node lower-cases the request's)", () => {
    const match = compile({ headers: { "X-Canary": { exact: "true" } } });
    expect(matchesRequest(match, "/", "GET", { "x-canary": "true" })).toBe(true);
  });

  it("accepts a repeated header when any of its values matches", () => {
    const match = compile({ headers: { cookie: { prefix: "user=" } } });
    expect(matchesRequest(match, "/", "GET", { cookie: ["a=1", "user=me"] } as unknown as Record<string, string>)).toBe(true);
  });

  it("takes every request with no entries, and any one entry otherwise", () => {
    const a = compile({ uri: { exact: "/a" } });
    const b = compile({ uri: { exact: "/b" } });
    expect(matchesAny([], "/anything", "GET", {})).toBe(true);
    expect(matchesAny([a, b], "/b", "GET", {})).toBe(true);
    expect(matchesAny([a, b], "/c", "GET", {})).toBe(false);
    expect(matchesAny([compile({})], "/c", "DELETE", {})).toBe(true);
  });
});
