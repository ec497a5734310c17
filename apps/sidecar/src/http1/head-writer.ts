// Message heads written for the sidecar's HTTP/1.1 engine (server-messages.ts, upstream-messages.ts): the start line
// and header lines, refusing what Node's own http would refuse to send. Pure: no sockets.
import type { OutgoingHttpHeaders } from "node:http";
import { HTAB, TCHAR } from "./wire.ts";

/** Whether Node would send this header name: a token (RFC 9110 §5.6.2). */
function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i += 1) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** Whether Node would send this header value: no CR, LF, NUL or other controls but HTAB, nothing past latin1. */
function isValidValue(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== HTAB) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * Writes header lines after `startLine`, then `extra` (header lines the caller formatted itself, each ending in CRLF),
 * through the blank line; throws on a name or value that cannot go out.
 */
export function serializeHead(startLine: string, headers: OutgoingHttpHeaders, extra = ""): string {
  let head = `${startLine}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (!isToken(name)) throw new TypeError(`invalid HTTP header name "${name}"`);
    if (typeof value === "object") {
      for (const item of value) head += headerLine(name, item);
    } else head += headerLine(name, typeof value === "number" ? String(value) : value);
  }
  return `${head}${extra}\r\n`;
}

function headerLine(name: string, value: string): string {
  if (!isValidValue(value)) throw new TypeError(`invalid character in the value of HTTP header "${name}"`);
  return `${name}: ${value}\r\n`;
}

