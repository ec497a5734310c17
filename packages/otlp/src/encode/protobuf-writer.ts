// A minimal protobuf writer for the OTLP encoders: one growable Buffer, varints, fixed32/64, doubles, and
// length-delimited fields whose length is back-patched (one byte reserved; moved only when the body is ≥ 128 bytes).
// Hand-written because the sidecar encodes every span and access-log record on its event loop (see bench/results).

const TWO_32 = 4_294_967_296;

/** Wire types, as in the protobuf encoding spec. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH = 2;
export const FIXED32 = 5;

export class ProtobufWriter {
  buf: Buffer;
  pos = 0;

  /** `reuse`: a buffer nothing else uses any more (an earlier batch's, once exported), taken when it is big enough. */
  constructor(initialBytes = 64 * 1024, reuse?: Buffer) {
    this.buf = reuse !== undefined && reuse.length >= initialBytes ? reuse : Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for `bytes` more; growth doubles, so a batch rarely copies more than once or twice. */
  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes + 1024));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** The bytes written so far (a view: the writer must not be reused while they are in use). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  tag(field: number, wireType: number): void {
    const tag = (field << 3) | wireType;
    if (tag < 128 && this.pos < this.buf.length) {
      this.buf[this.pos++] = tag;
      return;
    }
    this.uint32(tag);
  }

  /** Unsigned varint of a non-negative integer below 2^32. */
  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let v = value >>> 0;
    while (v > 127) {
      buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** int64 varint of any safe JS integer (negative ones as 10-byte two's complement, as protobuf says). */
  int64(value: number): void {
    if (value >= 0 && value < TWO_32) {
      this.uint32(value);
      return;
    }
    const magnitude = Math.abs(value);
    let lo = magnitude % TWO_32 >>> 0;
    let hi = Math.floor(magnitude / TWO_32) >>> 0;
    if (value < 0) {
      // Two's complement of the 64-bit magnitude.
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    this.ensure(10);
    const buf = this.buf;
    while (hi > 0 || lo > 127) {
      buf[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  /** fixed64 from its two 32-bit halves. */
  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** fixed64 or sfixed64 of a safe integer (two's complement when negative): counts and int values of metric points. */
  int64Fixed(value: number): void {
    const hi = Math.floor(value / TWO_32);
    this.fixed64(value - hi * TWO_32, hi);
  }

  /** fixed64 nanoseconds of an OpenTelemetry HrTime [seconds, nanoseconds], exact (no float rounding past 2^53). */
  hrTime(seconds: number, nanos: number): void {
    const s = Math.trunc(seconds);
    const a = Math.floor(s / 65_536);
    const x = a * 1e9; // < 2^46: exact
    const y = (s - a * 65_536) * 1e9 + Math.trunc(nanos); // < 2^47: exact
    let lo = (x % 65_536) * 65_536 + (y % TWO_32);
    let hi = Math.floor(x / 65_536) + Math.floor(y / TWO_32);
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    }
    this.fixed64(lo, hi);
  }

  /**
   * fixed64 nanoseconds of an epoch time in (fractional) milliseconds, such as performance.timeOrigin +
   * performance.now(): exact for whole milliseconds, to the double's precision (a fraction of a µs) below that.
   */
  epochMillis(ms: number): void {
    let seconds = Math.floor(ms / 1000);
    // The division may round up to the next whole second for a time a hair before it; the subtraction is exact.
    if (ms - seconds * 1000 < 0) seconds -= 1;
    let nanos = Math.round((ms - seconds * 1000) * 1e6);
    if (nanos >= 1e9) {
      seconds += 1;
      nanos -= 1e9;
    }
    this.hrTime(seconds, nanos);
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Starts a length-delimited field: writes the tag and reserves one length byte; pass the result to `end`. */
  begin(field: number): number {
    this.ensure(6);
    const tag = (field << 3) | LENGTH;
    if (tag < 128) this.buf[this.pos++] = tag;
    else this.uint32(tag);
    return this.pos++;
  }

  /** Back-patches the length of the field started at `at`, moving the body when its length needs more bytes. */
  end(at: number): void {
    const length = this.pos - at - 1;
    if (length < 128) {
      this.buf[at] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    let v = length;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  /** A string field (written even when empty: callers skip proto3 defaults themselves). */
  string(field: number, value: string): void {
    const length = value.length;
    this.ensure(length * 3 + 6);
    const at = this.begin(field);
    const buf = this.buf;
    // Short ASCII strings (most keys and values) are cheaper to copy by hand than through the native UTF-8 writer.
    if (length < 48) {
      let p = this.pos;
      let i = 0;
      for (; i < length; i += 1) {
        const c = value.charCodeAt(i);
        if (c >= 128) break;
        buf[p++] = c;
      }
      if (i === length) {
        this.pos = p;
        this.end(at);
        return;
      }
    }
    this.pos = at + 1 + buf.write(value, at + 1, "utf8");
    this.end(at);
  }

  /** A bytes field from lowercase or uppercase hex (trace and span ids). */
  hex(field: number, value: string): void {
    const bytes = value.length >>> 1;
    this.tag(field, LENGTH);
    this.uint32(bytes);
    this.ensure(bytes);
    const written = this.buf.write(value, this.pos, bytes, "hex");
    // Not hex (never from the SDK's id generators): zeros keep the declared length true.
    if (written < bytes) this.buf.fill(0, this.pos + written, this.pos + bytes);
    this.pos += bytes;
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, LENGTH);
    this.uint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Bytes already encoded as a whole field (tag included), such as the resource and scope made once. */
  raw(encoded: Uint8Array): void {
    const length = encoded.length;
    this.ensure(length);
    // A byte loop beats the native copy for the short fields (cached keys) this mostly writes.
    if (length < 48) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < length; i += 1) buf[p++] = encoded[i] as number;
      this.pos = p;
      return;
    }
    this.buf.set(encoded, this.pos);
    this.pos += length;
  }
}

export function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  if (value < 268_435_456) return 4;
  return 5;
}
