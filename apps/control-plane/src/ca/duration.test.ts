import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["1h", 3_600_000],
    ["90m", 5_400_000],
    ["1.5s", 1_500],
    ["250ms", 250],
    ["1h30m", 5_400_000],
    ["4s", 4_000],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(["", "1", "1d", "h", "-1s", "1 h", "1.s"])("refuses %j with an example of the syntax", (text) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain("e.g. 1h");
  });

  it("refuses zero", () => {
    expect(parseDuration("0s")).toEqual({ ok: false, error: '"0s" is not a positive duration' });
  });
});
