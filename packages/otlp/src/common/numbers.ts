// Numbers that JSON (and so jsonb) can hold: int64 beyond 2^53 and non-finite doubles become strings, so
// nothing is silently rounded or turned into null.

export function toAttributeInteger(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

export function toAttributeNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}
