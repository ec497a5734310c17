// Chunked transfer coding (RFC 9112 §7.1) for the sidecar's HTTP/1.1 engine: bodies without a known length are
// decoded as they arrive (server.ts for requests, client.ts for responses) and re-encoded on the way out. Pure.
import { TCHAR } from "./wire.ts";

const CR = 13;
const LF = 10;
const HTAB = 9;
const COLON = 58;

/** One chunk of a chunked body: its size line, the data, CRLF. */
export function encodeChunkHead(size: number): string {
  return `${size.toString(16)}\r\n`;
}
export const CHUNK_END = "\r\n";
export const LAST_CHUNK = "0\r\n\r\n";

/**
 * Decodes a chunked body as it arrives. `feed` calls `onData` with each run of body bytes (slices of the input, not
 * copies) and returns how many input bytes belonged to the message: all of them while it lasts, fewer when the
 * message ended inside this input (the rest is the next message), or -1 when the framing is broken. Trailer fields
 * are read and dropped (as Node's pipe drops them). `done` tells whether the last chunk and trailers were read.
 */
export type ChunkedDecoder = { feed: (buf: Buffer, start: number, onData: (data: Buffer) => void) => number; done: () => boolean };

const enum Chunk {
  Size,
  Extension,
  /** Just past a ";": an extension name must follow. */
  ExtensionName,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  /** At the start of a trailer line, or of the blank line that ends the message. */
  Trailer,
  TrailerName,
  TrailerLine,
  TrailerLineLf,
  FinalLf,
  Done,
}

/** Chunk sizes past this are refused (a size that cannot be a real chunk, and keeps the arithmetic exact). */
const MAX_CHUNK_HEX_DIGITS = 12;

export function createChunkedDecoder(): ChunkedDecoder {
  let state = Chunk.Size;
  let size = 0;
  let digits = 0;
  let left = 0;
  /** The trailer field name being read (Node refuses a Content-Length trailer). */
  let trailerName = "";
  return {
    done: () => state === Chunk.Done,
    feed(buf, start, onData) {
      let i = start;
      const end = buf.length;
      while (i < end && state !== Chunk.Done) {
        const c = buf[i] as number;
        switch (state) {
          case Chunk.Size: {
            const v = hexValue(c);
            if (v >= 0) {
              if (++digits > MAX_CHUNK_HEX_DIGITS) return -1;
              size = size * 16 + v;
            } else if (digits === 0) return -1;
            else if (c === CR) state = Chunk.SizeLf;
            else if (c === 0x3b) state = Chunk.ExtensionName;
            else return -1;
            i += 1;
            break;
          }
          case Chunk.ExtensionName:
            if (TCHAR[c] !== 1) return -1;
            state = Chunk.Extension;
            i += 1;
            break;
          case Chunk.Extension: // name[=value] pairs; only what Node's strict parser takes (no spaces, no quoting)
            if (c === CR) state = Chunk.SizeLf;
            else if (c === 0x3b) state = Chunk.ExtensionName;
            else if (TCHAR[c] !== 1 && c !== 0x3d) return -1;
            i += 1;
            break;
          case Chunk.SizeLf:
            if (c !== LF) return -1;
            i += 1;
            state = size === 0 ? Chunk.Trailer : Chunk.Data;
            left = size;
            size = 0;
            digits = 0;
            break;
          case Chunk.Data: {
            const n = Math.min(left, end - i);
            onData(buf.subarray(i, i + n));
            left -= n;
            i += n;
            if (left === 0) state = Chunk.DataCr;
            break;
          }
          case Chunk.DataCr:
            if (c !== CR) return -1;
            state = Chunk.DataLf;
            i += 1;
            break;
          case Chunk.DataLf:
            if (c !== LF) return -1;
            state = Chunk.Size;
            i += 1;
            break;
          case Chunk.Trailer: // a trailer field starts with its name (no folding)
            if (c === CR) state = Chunk.FinalLf;
            else if (TCHAR[c] !== 1) return -1;
            else {
              state = Chunk.TrailerName;
              trailerName = String.fromCharCode(c | 0x20);
            }
            i += 1;
            break;
          case Chunk.TrailerName:
            if (c === COLON) {
              if (trailerName === "content-length") return -1;
              state = Chunk.TrailerLine;
            } else if (TCHAR[c] !== 1) return -1;
            else if (trailerName.length < 16) trailerName += String.fromCharCode(c | 0x20);
            i += 1;
            break;
          case Chunk.TrailerLine:
            if (c === CR) state = Chunk.TrailerLineLf;
            else if (c === LF || (c < 0x20 && c !== HTAB)) return -1;
            i += 1;
            break;
          case Chunk.TrailerLineLf:
            if (c !== LF) return -1;
            state = Chunk.Trailer;
            i += 1;
            break;
          case Chunk.FinalLf:
            if (c !== LF) return -1;
            state = Chunk.Done;
            i += 1;
            break;
        }
      }
      return i - start;
    },
  };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
