// Test helper: mutations of a valid protobuf body for the fuzz and oracle tests — bit flips, random bytes,
// insertions, deletions, truncation, duplicated slices, and corrupted length prefixes (found by walking the wire
// format independently of the code under test), so inputs reach deep into the decoders before going wrong.
import type { Random } from "./random.ts";

/** Offsets and sizes of every length prefix in `body`, at every depth where the bytes parse as a message. */
export function findLengthPrefixes(body: Uint8Array): { at: number; size: number }[] {
  const found: { at: number; size: number }[] = [];
  walk(body, 0, body.length, found, 0);
  return found;
}

function readVarint(body: Uint8Array, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0, scale = 1; i < 10 && at + i < end; i += 1, scale *= 128) {
    const byte = body[at + i] as number;
    value += (byte & 127) * scale;
    if (byte < 128) return { value, next: at + i + 1 };
  }
  return undefined;
}

/** Walks fields from `start` to `end`; returns false (recording nothing further) where they do not parse. */
function walk(body: Uint8Array, start: number, end: number, found: { at: number; size: number }[], depth: number): boolean {
  let pos = start;
  const mark = found.length;
  while (pos < end) {
    const tag = readVarint(body, pos, end);
    if (tag === undefined || tag.value < 8) break;
    pos = tag.next;
    const wireType = tag.value % 8;
    if (wireType === 0) {
      const value = readVarint(body, pos, end);
      if (value === undefined) break;
      pos = value.next;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = readVarint(body, pos, end);
      if (length === undefined || length.next + length.value > end) break;
      found.push({ at: pos, size: length.next - pos });
      if (depth < 64) walk(body, length.next, length.next + length.value, found, depth + 1);
      pos = length.next + length.value;
    } else break;
  }
  if (pos === end) return true;
  found.length = mark;
  return false;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 127) {
    bytes.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

export function mutate(body: Uint8Array, random: Random, lengthPrefixes = findLengthPrefixes(body)): Uint8Array {
  const bytes = Array.from(body);
  const rounds = 1 + random.below(3);
  for (let round = 0; round < rounds; round += 1) {
    const at = random.below(bytes.length + 1);
    switch (random.below(7)) {
      case 0: // flip one bit
        if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << random.below(8));
        break;
      case 1: // overwrite with a random byte (often a new tag or length)
        if (at < bytes.length) bytes[at] = random.below(256);
        break;
      case 2: // insert random bytes
        bytes.splice(at, 0, ...Array.from({ length: 1 + random.below(8) }, () => random.below(256)));
        break;
      case 3: // delete a range
        bytes.splice(at, 1 + random.below(16));
        break;
      case 4: // truncate
        bytes.length = at;
        break;
      case 5: {
        // corrupt a length prefix: a little off, far too long, zero, or a huge varint (only in the first round,
        // while the recorded offsets still match the bytes)
        const prefix = round === 0 && lengthPrefixes.length > 0 ? random.pick(lengthPrefixes) : undefined;
        if (prefix === undefined) break;
        const old = readVarint(Uint8Array.from(bytes), prefix.at, bytes.length)?.value ?? 0;
        const value = random.pick([old + 1, Math.max(0, old - 1), old + 1 + random.below(1000), 0, 2 ** 31 - 1, 2 ** 32 + random.below(1000)]);
        bytes.splice(prefix.at, prefix.size, ...varint(value));
        break;
      }
      default: // duplicate a slice somewhere else
        bytes.splice(random.below(bytes.length + 1), 0, ...bytes.slice(at, at + 1 + random.below(32)));
    }
  }
  return Uint8Array.from(bytes);
}
