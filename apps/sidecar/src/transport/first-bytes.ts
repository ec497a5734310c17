// What the first bytes of an inbound connection say it is, so one mesh port can take mTLS, h2c and HTTP/1.1
// (PERMISSIVE): a TLS record starts with 0x16 (handshake), HTTP/2 prior knowledge with its fixed preface.

export type FirstBytes = "tls" | "h2c" | "http1" | "need-more";

const TLS_HANDSHAKE = 0x16;
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export function classifyFirstBytes(bytes: Buffer): FirstBytes {
  if (bytes.length === 0) return "need-more";
  if (bytes[0] === TLS_HANDSHAKE) return "tls";
  const n = Math.min(bytes.length, H2_PREFACE.length);
  // No HTTP/1 method starts like the preface past its first letter, so a short prefix that matches waits for more.
  if (bytes.compare(H2_PREFACE, 0, n, 0, n) !== 0) return "http1";
  return n === H2_PREFACE.length ? "h2c" : "need-more";
}
