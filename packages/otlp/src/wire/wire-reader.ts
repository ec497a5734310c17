// A protobuf wire reader for the OTLP decoders: one cursor over the body, the primitives OTLP uses, and the
// bounds rules of a schema decoder (a nested message ends exactly where its length says; a read past the end of the
// enclosing message, a malformed varint or tag, nesting past 100 messages, or an unknown wire type is an error).
// Hand-written because decoding is ingest's hot path: values go straight into records, with no generic message
// objects, Longs or per-field closures in between (see bench/ingest/decode.mjs). Its behaviour is pinned to the
// protobufjs decoder by wire/oracle.test.ts.
import { isUtf8 } from "node:buffer";
import { cleanString } from "../common/clean-string.ts";
import { CACHE_MAX_LENGTH, readShortAscii } from "./short-string-cache.ts";

/** Wire types, as in the protobuf encoding spec. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH = 2;
export const START_GROUP = 3;
export const FIXED32 = 5;

/** protoc's default recursion limit (CodedInputStream), which protobufjs applies as well. */
const MAX_DEPTH = 100;

const TWO_32 = 4_294_967_296;

/**
 * Buffer's native slice decoders: what Buffer.toString calls after checking its arguments, which costs more than the
 * decoding itself on the short strings OTLP is made of. Present in every Node version (protobufjs uses utf8Slice).
 */
type SliceDecoders = {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
};

/** The body is not valid protobuf for the message being read; the message says what and where. */
export class WireFormatError extends Error {
  override name = "WireFormatError";
}

export class WireReader {
  readonly buf: Buffer & SliceDecoders;
  private readonly view: DataView;
  pos = 0;
  /** The end of the message being read: no read may pass it. */
  limit: number;

  constructor(body: Uint8Array) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.buf = buf as Buffer & SliceDecoders;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.limit = this.buf.length;
  }

  private outOfRange(length: number): WireFormatError {
    return new WireFormatError(`a field of ${length} bytes at offset ${this.pos} runs past the end of its message (offset ${this.limit}): the body is truncated or a length is wrong`);
  }

  /**
   * Starts a length-delimited message at `depth` (the request is depth 0) and returns the enclosing limit, for
   * `leave`. The caller reads fields while `pos < limit`.
   */
  enter(depth: number): number {
    if (depth > MAX_DEPTH) throw new WireFormatError(`messages nest deeper than ${MAX_DEPTH} levels at offset ${this.pos}`);
    const length = this.length();
    const outer = this.limit;
    if (this.pos + length > outer) throw this.outOfRange(length);
    this.limit = this.pos + length;
    return outer;
  }

  leave(outer: number): void {
    this.limit = outer;
  }

  /** Field number << 3 | wire type. Field number 0 is refused here, as protobufjs refuses it when skipping. */
  tag(): number {
    const buf = this.buf;
    const start = this.pos;
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      const byte = buf[this.pos++] as number;
      value |= (byte & 127) << shift;
      if (byte < 128) return this.checkTag(value >>> 0, start);
    }
    if (this.pos >= this.limit) throw this.outOfRange(1);
    const last = buf[this.pos++] as number;
    // The fifth byte may carry only the top four bits of a 32-bit tag.
    if (last >= 16) throw new WireFormatError(`invalid tag encoding at offset ${start}`);
    return this.checkTag((value | (last << 28)) >>> 0, start);
  }

  private checkTag(tag: number, start: number): number {
    if (tag >>> 3 === 0) throw new WireFormatError(`illegal tag: field number 0 at offset ${start}`);
    return tag;
  }

  /** A length prefix (below 2^32). */
  private length(): number {
    const buf = this.buf;
    const start = this.pos;
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      const byte = buf[this.pos++] as number;
      value |= (byte & 127) << shift;
      if (byte < 128) return value >>> 0;
    }
    if (this.pos >= this.limit) throw this.outOfRange(1);
    const last = buf[this.pos++] as number;
    // Lengths stay below 2^31, as in protobufjs and protoc.
    if (last > 7) throw new WireFormatError(`invalid length encoding at offset ${start}`);
    return (value >>> 0) + last * 268_435_456;
  }

  /** A varint's low 32 bits, unsigned (up to ten bytes are read, as for any varint). */
  uint32(): number {
    const buf = this.buf;
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      const byte = buf[this.pos++] as number;
      value |= (byte & 127) << shift;
      if (byte < 128) return value >>> 0;
    }
    if (this.pos >= this.limit) throw this.outOfRange(1);
    const fifth = buf[this.pos++] as number;
    value = (value | ((fifth & 15) << 28)) >>> 0;
    if (fifth < 128) return value;
    this.skipVarintTail(5);
    return value;
  }

  /** int32 and enums: the low 32 bits, signed. */
  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const value = this.uint32();
    return ((value >>> 1) ^ -(value & 1)) | 0;
  }

  bool(): boolean {
    const buf = this.buf;
    let value = false;
    for (let i = 0; i < 10; i += 1) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      const byte = buf[this.pos++] as number;
      if ((byte & 127) !== 0) value = true;
      if (byte < 128) return value;
    }
    throw new WireFormatError(`invalid varint encoding at offset ${this.pos}`);
  }

  /** Skips what is left of a varint after `read` bytes; ten bytes at most. */
  private skipVarintTail(read: number): void {
    for (let i = read; i < 10; i += 1) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      if ((this.buf[this.pos++] as number) < 128) return;
    }
    throw new WireFormatError(`invalid varint encoding at offset ${this.pos}`);
  }

  /** An int64 varint as an attribute value: a number when it is a safe integer, else its decimal string. */
  int64Value(): number | string {
    const buf = this.buf;
    const start = this.pos;
    let lo = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      const byte = buf[this.pos++] as number;
      lo |= (byte & 127) << shift;
      if (byte < 128) return lo >>> 0;
    }
    this.pos = start;
    const value = this.varint64();
    const signed = BigInt.asIntN(64, value);
    return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed.toString();
  }

  /** A full 64-bit varint, unsigned. */
  varint64(): bigint {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i += 1) {
      if (this.pos >= this.limit) throw this.outOfRange(1);
      const byte = buf[this.pos++] as number;
      const bits = byte & 127;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 128) return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    }
    throw new WireFormatError(`invalid varint encoding at offset ${this.pos}`);
  }

  /** A uint64 varint as a number (counts: exact below 2^53). */
  uint64Number(): number {
    const start = this.pos;
    const low = this.uint32();
    if (this.pos - start < 5) return low;
    this.pos = start;
    return Number(this.varint64());
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.limit) throw this.outOfRange(bytes);
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** fixed64 counts as a number (exact below 2^53). */
  fixed64Number(): number {
    this.need(8);
    const value = this.view.getUint32(this.pos, true) + this.view.getUint32(this.pos + 4, true) * TWO_32;
    this.pos += 8;
    return value;
  }

  /** sfixed64 as a number (int64 beyond 2^53 is rounded, as metric values are stored). */
  sfixed64Number(): number {
    this.need(8);
    const value = this.view.getUint32(this.pos, true) + this.view.getInt32(this.pos + 4, true) * TWO_32;
    this.pos += 8;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /**
   * A string field, storable in Postgres (see cleanString). proto3 strings must be valid UTF-8 and a body with one
   * that is not is refused, as protobufjs refuses it. Short ASCII strings come from short-string-cache.ts.
   */
  string(): string {
    const start = this.stringStart();
    const end = this.pos;
    const buf = this.buf;
    if (end - start <= CACHE_MAX_LENGTH) return readShortAscii(buf, start, end) ?? this.utf8(start, end);
    for (let i = start; i < end; i += 1) {
      const byte = buf[i] as number;
      if (byte === 0 || byte > 127) return this.utf8(start, end);
    }
    return buf.latin1Slice(start, end);
  }

  /** A string with NUL or non-ASCII bytes: checked to be UTF-8, decoded, made storable. */
  private utf8(start: number, end: number): string {
    this.checkUtf8(start, end);
    return cleanString(this.buf.utf8Slice(start, end));
  }

  /** A string field that is not kept: still refused when it is not UTF-8. */
  skipString(): void {
    const start = this.stringStart();
    for (let i = start; i < this.pos; i += 1) {
      if ((this.buf[i] as number) > 127) {
        this.checkUtf8(start, this.pos);
        return;
      }
    }
  }

  /** Reads a length and moves past the bytes it covers; returns where they start. */
  private stringStart(): number {
    const length = this.length();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return start;
  }

  private checkUtf8(start: number, end: number): void {
    if (!isUtf8(this.buf.subarray(start, end))) {
      throw new WireFormatError(`the string at offset ${start} is not valid UTF-8 (protobuf strings must be; send binary data as bytes)`);
    }
  }

  /** A bytes field as lowercase hex (ids). */
  hex(): string {
    const length = this.length();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return this.buf.hexSlice(start, this.pos);
  }

  /** A bytes field as base64 (bytes attribute values, stored as OTLP/JSON writes them). */
  base64(): string {
    const length = this.length();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return this.buf.base64Slice(start, this.pos);
  }

  /**
   * Calls `read` for each value of a repeated scalar field: packed (one length-delimited run), or one value sent
   * unpacked with its own wire type; any other wire type is skipped, as for an unknown field.
   */
  repeated(wireType: number, elementWireType: number, depth: number, field: number, read: () => void): void {
    if (wireType === LENGTH) {
      const length = this.length();
      this.need(length);
      const outer = this.limit;
      this.limit = this.pos + length;
      while (this.pos < this.limit) read();
      this.limit = outer;
      return;
    }
    if (wireType === elementWireType) read();
    else this.skip(wireType, depth, field);
  }

  /**
   * Skips a field the reader does not want: unknown fields, and known ones sent with another wire type. Known fields
   * that are not kept are still read with their type (`uint32()`, `string()`...), so they are checked as a schema
   * decoder checks them.
   */
  skip(wireType: number, depth: number, field: number): void {
    if (depth > MAX_DEPTH) throw new WireFormatError(`messages nest deeper than ${MAX_DEPTH} levels at offset ${this.pos}`);
    switch (wireType) {
      case VARINT:
        // No ten-byte limit here: protobufjs skips unknown varints of any length, and so must this.
        do {
          if (this.pos >= this.limit) throw this.outOfRange(1);
        } while ((this.buf[this.pos++] as number) >= 128);
        return;
      case FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case LENGTH: {
        const length = this.length();
        this.need(length);
        this.pos += length;
        return;
      }
      case START_GROUP:
        for (;;) {
          const tag = this.tag();
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) throw new WireFormatError(`invalid end group tag at offset ${this.pos}`);
            return;
          }
          this.skip(tag & 7, depth + 1, tag >>> 3);
        }
      case FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new WireFormatError(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}
