import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { ProtobufWriter } from "./protobuf-writer.ts";

function read(bytes: Uint8Array): protobuf.Reader {
  return protobuf.Reader.create(bytes);
}

describe("ProtobufWriter", () => {
  it("writes int64 varints protobufjs reads back, negative and beyond 2^32 included", () => {
    for (const value of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -42, -(2 ** 40), Number.MIN_SAFE_INTEGER]) {
      const w = new ProtobufWriter(4);
      w.int64(value);
      const long = read(w.finish()).int64();
      expect(typeof long === "number" ? long : long.high * 2 ** 32 + (long.low >>> 0)).toBe(value);
    }
  });

  it("writes safe integers as fixed64 / sfixed64, negative (two's complement) and beyond 2^32 included", () => {
    for (const value of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER, -1, -(2 ** 32), -(2 ** 40) - 3, Number.MIN_SAFE_INTEGER]) {
      const w = new ProtobufWriter(1);
      w.int64Fixed(value);
      expect(w.pos).toBe(8);
      expect(Buffer.from(w.finish()).readBigInt64LE(0)).toBe(BigInt(value));
    }
  });

  it("writes HrTime as exact fixed64 nanoseconds, past 2^53", () => {
    const cases: [number, number][] = [
      [0, 0],
      [1, 5],
      [1767225600, 123456789],
      [1767225600, 999999999],
      [4294967295, 999999999],
      [65535, 1],
      [65536, 0],
    ];
    for (const [seconds, nanos] of cases) {
      const w = new ProtobufWriter(1);
      w.hrTime(seconds, nanos);
      const bytes = Buffer.from(w.finish());
      expect(bytes.readBigUInt64LE(0)).toBe(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
    }
  });

  it("writes epoch milliseconds as fixed64 nanoseconds: whole ones exact, fractions to the nanosecond", () => {
    const cases: [number, bigint][] = [
      [0, 0n],
      [1767225600123, 1767225600123000000n],
      [1767225600123.5, 1767225600123500000n],
      [1767225600999.999, 1767225600999999000n],
      [999.0000001, 999000000n],
    ];
    for (const [ms, nanos] of cases) {
      const w = new ProtobufWriter(1);
      w.epochMillis(ms);
      // A double near 1.7e12 ms carries ~0.24 µs: compare to within that.
      const written = Buffer.from(w.finish()).readBigUInt64LE(0);
      expect(Number(written - nanos)).toBeGreaterThanOrEqual(-250);
      expect(Number(written - nanos)).toBeLessThanOrEqual(250);
    }
    const whole = new ProtobufWriter(1);
    whole.epochMillis(1767225600123);
    expect(Buffer.from(whole.finish()).readBigUInt64LE(0)).toBe(1767225600123000000n);
  });

  it("back-patches lengths of 0, 127, 128 and 20,000 bytes, and grows its buffer", () => {
    for (const length of [0, 1, 127, 128, 16_383, 16_384, 20_000]) {
      const w = new ProtobufWriter(8);
      const value = "x".repeat(length);
      w.string(1, value);
      w.tag(2, 0);
      w.uint32(7);
      const reader = read(w.finish());
      expect(reader.uint32()).toBe((1 << 3) | 2);
      expect(reader.string()).toBe(value);
      expect(reader.uint32()).toBe(2 << 3);
      expect(reader.uint32()).toBe(7);
      expect(reader.pos).toBe(reader.len);
    }
  });

  it("writes UTF-8 strings, short and long, with their byte length", () => {
    for (const value of ["é", "trace ✓ 🚀", "ascii then é at the end", `${"a".repeat(60)}€`, "日本語".repeat(100)]) {
      const w = new ProtobufWriter(2);
      w.string(3, value);
      const reader = read(w.finish());
      reader.uint32();
      expect(reader.string()).toBe(value);
    }
  });

  it("writes hex ids as bytes", () => {
    const w = new ProtobufWriter(2);
    w.hex(1, "0af7651916cd43dd8448eb211c80319c");
    const reader = read(w.finish());
    reader.uint32();
    expect(Buffer.from(reader.bytes()).toString("hex")).toBe("0af7651916cd43dd8448eb211c80319c");
  });
});
