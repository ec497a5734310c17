// Trace and span ids for the spans the sidecar starts: random bytes hex-encoded, from a pool refilled with one
// crypto.randomFillSync call per few hundred ids (a call per id would cost more than the rest of the span), and
// never all zero, which W3C Trace Context says is invalid.
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let next = POOL_BYTES;

/** The offset of `bytes` fresh random bytes in the pool, at least one of them non-zero. */
function take(bytes: number): number {
  for (;;) {
    if (next + bytes > POOL_BYTES) {
      randomFillSync(pool);
      next = 0;
    }
    const at = next;
    next += bytes;
    for (let i = at; i < at + bytes; i += 4) {
      if (pool.readUInt32LE(i) !== 0) return at;
    }
  }
}

/** 32 lowercase hex digits. */
export function newTraceId(): string {
  const at = take(16);
  return pool.toString("hex", at, at + 16);
}

/** 16 lowercase hex digits. */
export function newSpanId(): string {
  const at = take(8);
  return pool.toString("hex", at, at + 8);
}
