// Short ASCII strings by content, for the wire reader: attribute keys, methods, service names and status codes
// arrive thousands of times per second, and a cached string costs neither a native slice nor, when it becomes a
// property name, V8's hashing of a fresh copy. Direct-mapped and bounded (a new string evicts the one in its slot),
// shared by all requests; it only returns what the bytes say, so it never changes a result.

/** Strings longer than this are sliced every time (ids, paths and messages rarely repeat). */
export const CACHE_MAX_LENGTH = 40;
const CACHE_SLOTS = 4096;

const cachedBytes = new Uint8Array(CACHE_SLOTS * CACHE_MAX_LENGTH);
const cachedLengths = new Int16Array(CACHE_SLOTS).fill(-1);
const cachedStrings: string[] = new Array<string>(CACHE_SLOTS).fill("");

/**
 * `buf[start..end)` (at most CACHE_MAX_LENGTH bytes) as a string when it is ASCII without NUL; undefined otherwise,
 * for the caller's UTF-8 path.
 */
export function readShortAscii(buf: Buffer & { latin1Slice(start: number, end: number): string }, start: number, end: number): string | undefined {
  const length = end - start;
  let hash = length;
  for (let i = start; i < end; i += 1) {
    const byte = buf[i] as number;
    if (byte === 0 || byte > 127) return undefined;
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  const slot = (hash ^ (hash >>> 15)) & (CACHE_SLOTS - 1);
  const at = slot * CACHE_MAX_LENGTH;
  if (cachedLengths[slot] === length && isSame(buf, start, length, at)) return cachedStrings[slot] as string;
  const text = buf.latin1Slice(start, end);
  buf.copy(cachedBytes, at, start, end);
  cachedLengths[slot] = length;
  cachedStrings[slot] = text;
  return text;
}

function isSame(buf: Buffer, start: number, length: number, at: number): boolean {
  for (let i = 0; i < length; i += 1) {
    if (cachedBytes[at + i] !== buf[start + i]) return false;
  }
  return true;
}
