// HTTP/1.1 on the wire, for the sidecar's own HTTP/1.1 engine (server.ts, client.ts): message heads parsed from
// bytes (head-writer.ts writes them; chunked.ts frames bodies). Pure: no sockets.
//
// The request parser accepts only a strict, common subset of HTTP/1.1 (RFC 9112): origin-form targets, HTTP/1.1,
// token header names, no obs-fold, one Content-Length or `Transfer-Encoding: chunked`, no Upgrade. Anything else,
// valid or not, is "fallback": the connection goes to Node's own HTTP server, whose parser (llhttp) decides and
// answers malformed input with 400/431 (proxy/client-error.ts). A request this parser accepts therefore never means
// something else to Node, which is what keeps request smuggling out.
import { METHODS, type IncomingHttpHeaders } from "node:http";

/** Node's default --max-http-header-size: a longer head goes to Node, which answers 431. */
export const MAX_HEAD_BYTES = 16 * 1024;

export type RequestHead = {
  method: string;
  /** The request target as sent (origin-form: starts with "/"). */
  url: string;
  headers: IncomingHttpHeaders;
  /** Body framing: bytes of a Content-Length body (0: none), or "chunked". */
  body: number | "chunked";
  /** The client asked to close after this exchange (`Connection: close`). */
  close: boolean;
  /** `Expect: 100-continue`: the client waits for an interim 100 before it sends the body. */
  expectContinue: boolean;
  /** Bytes of the head, through its blank line. */
  headBytes: number;
};

export type ResponseHead = {
  status: number;
  statusMessage: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor: number;
  headers: IncomingHttpHeaders;
  /** Body framing: bytes of a Content-Length body (0: none), "chunked", or "close" (the body ends with the connection). */
  body: number | "chunked" | "close";
  /** The connection can carry another request after this response. */
  keepAlive: boolean;
  headBytes: number;
};

/** Not enough bytes yet for a whole head. */
export const INCOMPLETE = 0;
/** The request is outside the subset this parser takes (or malformed): Node's server must handle the connection. */
export const FALLBACK = 1;
export type ParseMiss = typeof INCOMPLETE | typeof FALLBACK;

const CR = 13;
const LF = 10;
const SP = 32;
export const HTAB = 9;
const COLON = 58;

/** tchar (RFC 9110 §5.6.2). */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
/** field-vchar, SP and HTAB (obs-text included, as Node takes it): what a header value may hold. */
const VALUE_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c += 1) VALUE_CHAR[c] = c === HTAB || (c >= 0x20 && c !== 0x7f) ? 1 : 0;
/** What an origin-form request target may hold (visible ASCII; Node refuses the rest as well). */
const TARGET_CHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c += 1) TARGET_CHAR[c] = 1;

/** Headers Node keeps only the first of (duplicates dropped), as IncomingMessage does. */
const FIRST_WINS = new Set([
  "age",
  "authorization",
  "content-length",
  "content-type",
  "etag",
  "expires",
  "from",
  "host",
  "if-modified-since",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "referer",
  "retry-after",
  "server",
  "user-agent",
]);

/** Methods Node's parser knows (it refuses others); PRI is HTTP/2's preface, CONNECT a tunnel: both Node's. */
const METHOD_NAMES = new Set(METHODS.filter((method) => method !== "PRI" && method !== "CONNECT"));
const OBJECT_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));
/** Node's IncomingMessage keeps the first 1,000 header lines (maxHeadersCount); a longer head goes to Node. */
const MAX_HEADER_LINES = 1000;

/** The headers seen most: their lower-case names are found from the bytes (NAME_TABLE), with no string made. */
const COMMON_NAMES = [
  "Host",
  "User-Agent",
  "Accept",
  "Accept-Encoding",
  "Accept-Language",
  "Connection",
  "Content-Length",
  "Content-Type",
  "Date",
  "Server",
  "Cache-Control",
  "Transfer-Encoding",
  "Keep-Alive",
  "Last-Modified",
  "ETag",
  "Accept-Ranges",
  "Authorization",
  "Cookie",
  "Set-Cookie",
  "Expect",
  "Upgrade",
  "Traceparent",
  "Tracestate",
  "X-Request-Id",
  "X-Forwarded-For",
  "X-Forwarded-Proto",
  "X-Forwarded-Client-Cert",
  "X-Trellis-Peer-Metadata",
  "X-Trellis-Response-Flags",
  "Vary",
];

/**
 * Interned strings looked up from bytes, so the common header names and methods cost no string and no hash: by
 * length, the candidates' bytes (lower-case for names, compared with A–Z folded; as they are for methods).
 */
class ByteTable {
  private readonly byLength: { bytes: Uint8Array; value: string }[][] = [];

  constructor(entries: Iterable<string>) {
    for (const value of entries) {
      const list = (this.byLength[value.length] ??= []);
      list.push({ bytes: Buffer.from(value, "latin1"), value });
    }
  }

  /** The entry spelled by buf[start, end), letters A–Z folded to lower case when `fold`; null when none is. */
  find(buf: Buffer, start: number, end: number, fold: boolean): string | null {
    const list = this.byLength[end - start];
    if (list === undefined) return null;
    for (let k = 0; k < list.length; k += 1) {
      const entry = list[k] as { bytes: Uint8Array; value: string };
      const bytes = entry.bytes;
      let i = 0;
      for (; i < bytes.length; i += 1) {
        let c = buf[start + i] as number;
        if (fold && c >= 0x41 && c <= 0x5a) c += 0x20;
        if (c !== bytes[i]) break;
      }
      if (i === bytes.length) return entry.value;
    }
    return null;
  }
}

const NAME_TABLE = new ByteTable(COMMON_NAMES.map((name) => name.toLowerCase()));
const METHOD_TABLE = new ByteTable(METHOD_NAMES);

/** Buffer's own latin1 decoder, without toString's encoding dispatch (present in every Node version). */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}

/** The lower-case header name spelled by buf[start, end). */
function lowerName(buf: Buffer, start: number, end: number): string {
  return NAME_TABLE.find(buf, start, end, true) ?? latin1(buf, start, end).toLowerCase();
}

/** Whether buf holds the ASCII `text` at `at`. */
function bytesAre(buf: Buffer, at: number, text: string): boolean {
  if (at + text.length > buf.length) return false;
  for (let i = 0; i < text.length; i += 1) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Adds one header the way Node's IncomingMessage does: first wins for single-valued ones, set-cookie a list, else joined. */
function addHeader(headers: IncomingHttpHeaders, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    headers[name] = name === "set-cookie" ? [value] : value;
    return;
  }
  if (FIRST_WINS.has(name)) return;
  if (name === "set-cookie") (existing as string[]).push(value);
  else headers[name] = `${existing as string}${name === "cookie" ? "; " : ", "}${value}`;
}

/**
 * Parses the header lines from `at` (just past the start line) up to and including the blank line into `headers`.
 * Returns minus the offset past the head (0 and 1 are INCOMPLETE and FALLBACK), INCOMPLETE, or FALLBACK on anything
 * outside the grammar. `strict` (requests) also refuses what Node would read differently: a repeated single-valued
 * header (Host, Content-Length…), a trailing tab, more header lines than Node keeps. Responses refuse a repeated
 * Content-Length only (Node's client fails on it).
 */
function parseFields(buf: Buffer, at: number, end: number, headers: IncomingHttpHeaders, strict: boolean): number {
  let i = at;
  for (let lines = 0; ; lines += 1) {
    if (strict && lines > MAX_HEADER_LINES) return FALLBACK;
    if (i >= end) return INCOMPLETE;
    if (buf[i] === CR) {
      if (i + 1 >= end) return INCOMPLETE;
      return buf[i + 1] === LF ? -(i + 2) : FALLBACK;
    }
    const nameStart = i;
    while (i < end && TCHAR[buf[i] as number] === 1) i += 1;
    if (i >= end) return INCOMPLETE;
    if (buf[i] !== COLON || i === nameStart) return FALLBACK; // obs-fold, space before the colon, bad name
    const name = lowerName(buf, nameStart, i);
    i += 1;
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i += 1;
    const valueStart = i;
    while (i < end && VALUE_CHAR[buf[i] as number] === 1) i += 1;
    if (i + 1 >= end) return INCOMPLETE;
    if (buf[i] !== CR || buf[i + 1] !== LF) return FALLBACK; // bare LF, NUL or a control character
    let valueEnd = i;
    // Node reads a trailing tab in Content-Length, Transfer-Encoding and Connection differently from a space.
    if (strict && valueEnd > valueStart && buf[valueEnd - 1] === HTAB) return FALLBACK;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd -= 1;
    const value = latin1(buf, valueStart, valueEnd);
    if (headers[name] !== undefined && (strict ? FIRST_WINS.has(name) : name === "content-length")) return FALLBACK;
    // A header named like an Object property ("constructor", "__proto__") would read or set that property.
    if (OBJECT_KEYS.has(name)) {
      if (strict) return FALLBACK;
      i += 2;
      continue;
    }
    addHeader(headers, name, value);
    i += 2;
  }
}

/** Where the head's fields end, as returned by parseFields, or the miss. */
function headEnd(result: number): number | ParseMiss {
  return result < 0 ? -result : (result as ParseMiss);
}

/**
 * A request head at the start of `buf`; INCOMPLETE until the blank line is in (FALLBACK once the head passes
 * MAX_HEAD_BYTES), FALLBACK for anything outside the subset described at the top of this file.
 */
export function parseRequestHead(buf: Buffer): RequestHead | ParseMiss {
  const end = Math.min(buf.length, MAX_HEAD_BYTES);
  let i = 0;
  while (i < end && (buf[i] as number) >= 0x41 && (buf[i] as number) <= 0x5a) i += 1; // methods: upper-case letters
  if (i >= end) return buf.length >= MAX_HEAD_BYTES ? FALLBACK : INCOMPLETE;
  if (buf[i] !== SP || i === 0) return FALLBACK;
  const method = METHOD_TABLE.find(buf, 0, i, false);
  if (method === null) return FALLBACK;
  i += 1;
  const targetStart = i;
  if (buf[i] !== 0x2f && i < end) return FALLBACK; // origin-form only ("/…"); absolute-form is the forward proxy's
  while (i < end && TARGET_CHAR[buf[i] as number] === 1) i += 1;
  if (i + 10 >= end) return buf.length >= MAX_HEAD_BYTES ? FALLBACK : INCOMPLETE;
  if (buf[i] !== SP || !bytesAre(buf, i + 1, "HTTP/1.1\r\n")) return FALLBACK;
  const url = latin1(buf, targetStart, i);
  const headers: IncomingHttpHeaders = {};
  const fields = headEnd(parseFields(buf, i + 11, end, headers, true));
  if (fields === INCOMPLETE) return buf.length >= MAX_HEAD_BYTES ? FALLBACK : INCOMPLETE;
  if (fields === FALLBACK) return FALLBACK;

  let body: number | "chunked" = 0;
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  if (te !== undefined) {
    if (cl !== undefined || te.toLowerCase() !== "chunked") return FALLBACK;
    body = "chunked";
  } else if (cl !== undefined) {
    body = parseLength(cl);
    if (body < 0) return FALLBACK;
  }
  if (headers.upgrade !== undefined || headers["http2-settings"] !== undefined) return FALLBACK;
  if (headers.host === undefined) return FALLBACK; // Node answers 400 (an HTTP/1.1 request must name its host)
  let expectContinue = false;
  const expect = headers.expect;
  if (expect !== undefined) {
    if (expect.toLowerCase() !== "100-continue") return FALLBACK; // Node answers 417
    expectContinue = true;
  }
  const connection = headers.connection;
  const close = connection !== undefined && hasToken(connection, "close");
  if (connection !== undefined && hasToken(connection, "upgrade")) return FALLBACK;
  return { method, url, headers, body, close, expectContinue, headBytes: fields };
}

/**
 * A response head at the start of `buf` for a request of `method`; INCOMPLETE until the blank line is in, or an
 * Error saying what is wrong with it (the upstream broke the protocol: the exchange fails as a reset).
 */
export function parseResponseHead(buf: Buffer, method: string): ResponseHead | typeof INCOMPLETE | Error {
  const end = Math.min(buf.length, MAX_HEAD_BYTES);
  if (end < 12) return INCOMPLETE;
  if (!bytesAre(buf, 0, "HTTP/1.") || (buf[7] !== 0x31 && buf[7] !== 0x30) || buf[8] !== SP) return new Error("malformed response status line");
  const versionMinor = buf[7] === 0x31 ? 1 : 0;
  const d0 = (buf[9] as number) - 0x30;
  const d1 = (buf[10] as number) - 0x30;
  const d2 = (buf[11] as number) - 0x30;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return new Error("malformed response status code");
  const status = d0 * 100 + d1 * 10 + d2;
  let i = 12;
  let statusMessage = "";
  if (buf[i] === SP) {
    const start = i + 1;
    i = start;
    while (i < end && (VALUE_CHAR[buf[i] as number] === 1)) i += 1;
    statusMessage = latin1(buf, start, i);
  }
  if (i + 1 >= end) return buf.length >= MAX_HEAD_BYTES ? new Error("response head too large") : INCOMPLETE;
  if (buf[i] !== CR || buf[i + 1] !== LF) return new Error("malformed response status line");
  const headers: IncomingHttpHeaders = {};
  const fields = headEnd(parseFields(buf, i + 2, end, headers, false));
  if (fields === INCOMPLETE) return buf.length >= MAX_HEAD_BYTES ? new Error("response head too large") : INCOMPLETE;
  if (fields === FALLBACK) return new Error("malformed response header, or a repeated Content-Length");

  const connection = headers.connection;
  let keepAlive = versionMinor === 1 ? connection === undefined || !hasToken(connection, "close") : connection !== undefined && hasToken(connection, "keep-alive");
  let body: number | "chunked" | "close";
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  if (method === "HEAD" || (status >= 100 && status < 200) || status === 204 || status === 304) body = 0;
  else if (te !== undefined) {
    if (cl !== undefined) return new Error("response has both Content-Length and Transfer-Encoding");
    if (!lastCodingIsChunked(te)) {
      body = "close";
      keepAlive = false;
    } else body = "chunked";
  } else if (cl !== undefined) {
    body = parseLength(cl);
    if (body < 0) return new Error(`malformed response Content-Length "${cl}"`);
  } else {
    body = "close";
    keepAlive = false;
  }
  return { status, statusMessage, versionMinor, headers, body, keepAlive, headBytes: fields };
}

/** A Content-Length value: decimal digits only (no sign, no list), or -1. */
function parseLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i += 1) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Whether the comma-separated `list` holds `token` (lower-case), case-insensitively; allocates nothing for one-token lists. */
function hasToken(list: string, token: string): boolean {
  if (list.indexOf(",") === -1) {
    const one = list.trim();
    return one.length === token.length && (one === token || one.toLowerCase() === token);
  }
  for (const part of list.toLowerCase().split(",")) if (part.trim() === token) return true;
  return false;
}

function lastCodingIsChunked(te: string): boolean {
  const parts = te.toLowerCase().split(",");
  return parts[parts.length - 1]?.trim() === "chunked";
}
