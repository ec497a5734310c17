import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["2s", 2000],
    ["250ms", 250],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["1m30s", 90_000],
    ["0s", 0],
    ["1.1s", 1100],
    ["1000us", 1],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([["2 seconds"], ["2"], ["s"], ["-1s"], ["2S"], [""]])("refuses %j with the Istio syntax to use", (text) => {
    expect(parseDuration(text)).toEqual({ ok: false, message: `"${text}" is not a duration; use Istio syntax like 2s or 250ms` });
  });

  it("refuses a number, showing it unquoted", () => {
    expect(parseDuration(2)).toEqual({ ok: false, message: "2 is not a duration; use Istio syntax like 2s or 250ms" });
  });

  it("refuses fractions of a millisecond", () => {
    expect(parseDuration("1.5ms")).toEqual({ ok: false, message: '"1.5ms" is not a whole number of milliseconds; Trellis works in milliseconds, e.g. 250ms' });
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [250, "250ms"],
    [1500, "1500ms"],
    [2000, "2s"],
    [90_000, "90s"],
    [60_000, "1m"],
    [7_200_000, "2h"],
  ])("writes %d ms as %s, which reads back the same", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });
});
