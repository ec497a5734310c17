// Bad input on an HTTP/1.1 listener: Node's parser refuses malformed requests (bad syntax, Content-Length together
// with Transfer-Encoding, oversized headers) before any handler runs, so nothing is forwarded. This makes the answer
// explicit and Envoy-like: 400 (or 431 for oversized headers) with flag DPE and `Connection: close`, then the
// connection closes.
import type http from "node:http";
import type { Duplex } from "node:stream";
import { RESPONSE_FLAGS_HEADER } from "../response-flags.ts";

type ParserError = NodeJS.ErrnoException & { reason?: string; bytesParsed?: number };

/** Installs the answer on a server (every HTTP/1.1 listener of the sidecar). */
export function answerBadInput(server: http.Server): void {
  server.on("clientError", replyToClientError);
}

export function replyToClientError(error: ParserError, socket: Duplex): void {
  // Timeouts and resets are not bad input: there is no one (or no reason) to answer.
  if (error.code === "ECONNRESET" || error.code === "ERR_HTTP_REQUEST_TIMEOUT" || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? 431 : 400;
  const body = tooLarge
    ? "request header fields too large: the request line and headers exceed the limit (16 KB by default); send smaller headers\n"
    : `malformed HTTP request (${error.code ?? "parse error"}: ${error.reason ?? error.message}); the request was not forwarded\n`;
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
      `content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${RESPONSE_FLAGS_HEADER}: DPE\r\nconnection: close\r\n\r\n${body}`,
  );
}
