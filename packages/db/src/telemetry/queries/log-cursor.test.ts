// The logs.search cursor: what goes out comes back unchanged, and anything else is refused with a clear message.
import { describe, expect, it } from "vitest";
import { decodeLogCursor, encodeLogCursor } from "./log-cursor.ts";

describe("log cursor", () => {
  it("round-trips the position, microseconds included", () => {
    const position = { timeUs: 1_772_366_400_123_456n, recordId: "0b7e2f52-3c1d-4b7a-9a57-3f1f6a0d2c11" };
    const cursor = encodeLogCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeLogCursor(cursor)).toEqual(position);
  });

  it("refuses what it did not produce", () => {
    for (const bad of ["", "not a cursor!", Buffer.from("123:not-a-uuid").toString("base64url"), Buffer.from("{}").toString("base64url")]) {
      expect(() => decodeLogCursor(bad)).toThrow(/cursor is not one logs.search returned; pass the nextCursor of the previous page unchanged/);
    }
  });
});
