// Unit tests for the chunked coding (chunked.ts): decoding in any split, extensions and trailers, where the message
// ends inside a buffer, the framings refused (as Node's strict parser refuses them), and the encoder's pieces.
import { describe, expect, it } from "vitest";
import { CHUNK_END, LAST_CHUNK, createChunkedDecoder, encodeChunkHead } from "./chunked.ts";

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("createChunkedDecoder", () => {
  /** Feeds `parts` in order; returns what feed returned for each, the data and whether the decoder is done. */
  function decode(parts: string[]): { consumed: number[]; data: string; done: boolean } {
    const decoder = createChunkedDecoder();
    const data: Buffer[] = [];
    const consumed = parts.map((part) => decoder.feed(bytes(part), 0, (chunk) => data.push(Buffer.from(chunk))));
    return { consumed, data: Buffer.concat(data).toString("latin1"), done: decoder.done() };
  }

  const BODY = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

  it("decodes a whole body in one feed", () => {
    expect(decode([BODY])).toEqual({ consumed: [BODY.length], data: "hello world", done: true });
  });

  it("decodes a body fed one byte at a time", () => {
    const result = decode([...BODY]);
    expect(result.consumed).toEqual([...BODY].map(() => 1));
    expect(result.data).toBe("hello world");
    expect(result.done).toBe(true);
  });

  it("decodes a body split at every point", () => {
    for (let at = 0; at <= BODY.length; at += 1) {
      expect(decode([BODY.slice(0, at), BODY.slice(at)]), `split at ${at}`).toEqual({ consumed: [at, BODY.length - at], data: "hello world", done: true });
    }
  });

  it("is not done before the blank line that ends the trailers", () => {
    expect(decode(["5\r\nhello\r\n0\r\n"]).done).toBe(false);
    expect(decode(["5\r\nhello\r\n0\r\n\r"]).done).toBe(false);
  });

  it("skips chunk extensions (token=token; no quoted values)", () => {
    expect(decode(["5;name=value\r\nhello\r\n1;a=q;b\r\n!\r\n0;last\r\n\r\n"])).toMatchObject({ data: "hello!", done: true });
    expect(decode(["1;a=\"q\"\r\n!\r\n0\r\n\r\n"]).consumed).toContain(-1);
  });

  it("reads upper- and lower-case hex and leading zeros", () => {
    const data = "x".repeat(0xab);
    expect(decode([`Ab\r\n${data}\r\n00\r\n\r\n`])).toMatchObject({ data, done: true });
    expect(decode([`0000000000aB\r\n${data}\r\n0\r\n\r\n`])).toMatchObject({ data, done: true });
  });

  it("reads and drops trailers", () => {
    expect(decode(["3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other:\t2\r\n\r\n"])).toMatchObject({ data: "abc", done: true });
  });

  it("returns fewer bytes than fed when the message ends inside the input", () => {
    const next = "GET /next HTTP/1.1\r\n\r\n";
    const result = decode([BODY + next, "more"]);
    expect(result).toEqual({ consumed: [BODY.length, 0], data: "hello world", done: true });
  });

  it("starts at the offset it is given and hands out slices of the input", () => {
    const input = bytes(`HEAD3\r\nabc\r\n0\r\n\r\n`);
    const slices: Buffer[] = [];
    expect(createChunkedDecoder().feed(input, 4, (chunk) => slices.push(chunk))).toBe(input.length - 4);
    expect(slices.map((slice) => slice.toString())).toEqual(["abc"]);
    expect(slices[0]?.buffer).toBe(input.buffer);
  });

  it.each([
    ["missing CRLF after the data", "5\r\nhelloX\r\n0\r\n\r\n"],
    ["LF without CR after the data", "5\r\nhello\n0\r\n\r\n"],
    ["CR without LF after the data", "5\r\nhello\r0\r\n\r\n"],
    ["bad hex", "g\r\n"],
    ["hex with a sign", "-5\r\nhello\r\n"],
    ["hex with a 0x prefix", "0x5\r\nhello\r\n"],
    ["no size", "\r\nhello\r\n"],
    ["extension without a size", ";a\r\n"],
    ["too many hex digits", "1000000000000\r\n"],
    ["too many hex digits, even zeros", "0000000000000\r\n\r\n"],
    ["bare LF after the size", "5\nhello\r\n"],
    ["CR without LF after the size", "5\rhello\r\n"],
    ["control character in an extension", "5;a\x00\r\nhello\r\n"],
    ["bare LF in an extension", "5;a\nhello\r\n"],
    ["bare LF as the final line", "0\r\n\n"],
    ["CR without LF as the final line", "0\r\n\rX"],
    ["bare LF after a trailer", "0\r\nX: 1\n\r\n"],
    ["control character in a trailer", "0\r\nX: \x01\r\n\r\n"],
  ])("reports broken framing (-1): %s", (_, body) => {
    expect(decode([body]).consumed).toEqual([-1]);
  });

  it("reports broken framing at the byte where it breaks, when fed byte by byte", () => {
    const body = "5\r\nhelloX";
    const consumed = decode([...body]).consumed;
    expect(consumed.slice(0, -1).every((n) => n === 1)).toBe(true);
    expect(consumed.at(-1)).toBe(-1);
  });

  it("takes the largest size it allows (12 hex digits) without losing precision", () => {
    const decoder = createChunkedDecoder();
    const line = bytes("ffffffffffff\r\n");
    expect(decoder.feed(line, 0, () => undefined)).toBe(line.length);
    let seen = 0;
    expect(decoder.feed(Buffer.alloc(1000), 0, (chunk) => (seen += chunk.length))).toBe(1000);
    expect(seen).toBe(1000);
    expect(decoder.done()).toBe(false);
  });
});

describe("chunk encoding", () => {
  it("writes size lines in hex", () => {
    expect(encodeChunkHead(0)).toBe("0\r\n");
    expect(encodeChunkHead(255)).toBe("ff\r\n");
    expect(encodeChunkHead(4096)).toBe("1000\r\n");
    expect(CHUNK_END).toBe("\r\n");
    expect(LAST_CHUNK).toBe("0\r\n\r\n");
  });

  it("round-trips through the decoder", () => {
    const chunks = ["a", "x".repeat(300), "\r\n0\r\n\r\n"];
    const wire = chunks.map((chunk) => encodeChunkHead(chunk.length) + chunk + CHUNK_END).join("") + LAST_CHUNK;
    const decoder = createChunkedDecoder();
    let data = "";
    expect(decoder.feed(bytes(wire), 0, (chunk) => (data += chunk.toString("latin1")))).toBe(wire.length);
    expect(data).toBe(chunks.join(""));
    expect(decoder.done()).toBe(true);
  });
});
