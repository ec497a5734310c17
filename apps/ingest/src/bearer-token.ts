// The optional shared secret in front of ingest (TRELLIS_INGEST_TOKEN): an `Authorization: Bearer <token>`
// header or gRPC metadata entry, compared in constant time so response timing reveals nothing about the token.
import { createHash, timingSafeEqual } from "node:crypto";

/** Returns why a request is not authorized, or undefined when it is (always, when no token is configured). */
export type TokenCheck = (authorization: string | undefined) => string | undefined;

export function createTokenCheck(token: string | undefined): TokenCheck {
  if (token === undefined) return () => undefined;
  // Comparing digests keeps the comparison constant-time whatever the length of what was sent.
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer +(.+)$/i.exec(authorization?.trim() ?? "");
    if (!match?.[1]) {
      return "this ingest requires a bearer token: send `Authorization: Bearer <token>` with the value of TRELLIS_INGEST_TOKEN";
    }
    if (!timingSafeEqual(digest(match[1]), expected)) return "the bearer token is not the one this ingest expects (TRELLIS_INGEST_TOKEN)";
    return undefined;
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
