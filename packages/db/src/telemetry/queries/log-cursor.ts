// The keyset cursor of logs.search: the (time, record_id) of the last record of a page, opaque to the client
// (base64url) and checked on the way back in, so a mangled cursor is a clear 400, not a wrong page or a 500.
import { AppError } from "@trellis/runtime";

/** Position after which the next page starts: time in epoch microseconds (the stored precision) and record id. */
export type LogCursor = { timeUs: bigint; recordId: string };

const SHAPE = /^(\d{1,17}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeLogCursor({ timeUs, recordId }: LogCursor): string {
  return Buffer.from(`${timeUs}:${recordId}`).toString("base64url");
}

export function decodeLogCursor(cursor: string): LogCursor {
  const match = /^[A-Za-z0-9_-]+$/.test(cursor) ? SHAPE.exec(Buffer.from(cursor, "base64url").toString("utf8")) : null;
  if (!match) throw new AppError("BAD_REQUEST", "cursor is not one logs.search returned; pass the nextCursor of the previous page unchanged, or leave it out for the first page");
  return { timeUs: BigInt(match[1] as string), recordId: match[2] as string };
}
