// Streams an upstream response body into the downstream response, counting its bytes on the way. Replaces
// `pipe()` plus a byte-counting 'data' listener on the hot path: one listener, and the last chunk goes out through
// `end(chunk)`, which corks the socket so the response head, that chunk and the end of the message leave in a single
// write (one TLS record, one syscall) instead of one for the head and one per chunk.
import type { Http1Response, Listener } from "../http1/types.ts";

/** Where the relayed body's byte count goes (a request's record). */
export type ByteCount = { responseBytes: number };

/**
 * Like `source.pipe(res)`: backpressure from `res`, `res.end()` when `source` ends. Trailers are not forwarded (as
 * with pipe). Once `res` is destroyed (the caller left) chunks are dropped; the caller's code destroys the source.
 */
/** A response body being read: the engine's UpstreamResponse (or Node's IncomingMessage). */
export type RelaySource = {
  complete: boolean;
  readableLength: number;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  pause(): unknown;
  resume(): unknown;
}

export function relayBody(source: RelaySource, res: Http1Response, count: ByteCount): void {
  const relay: Relay = { source, res, count, ended: false };
  source.on("data", onData.bind(relay));
  source.once("end", onEnd.bind(relay));
}

type Relay = { source: RelaySource; res: Http1Response; count: ByteCount; ended: boolean };

function onData(this: Relay, chunk: Buffer): void {
  const { source, res } = this;
  this.count.responseBytes += chunk.length;
  if (res.destroyed || this.ended) return;
  // The parser has read the whole message and nothing else is buffered: this chunk is the last one.
  if (source.complete && source.readableLength === 0) {
    this.ended = true;
    res.end(chunk);
    return;
  }
  if (!res.write(chunk)) {
    source.pause();
    res.once("drain", () => source.resume());
  }
}

function onEnd(this: Relay): void {
  if (this.ended || this.res.destroyed) return;
  this.ended = true;
  this.res.end();
}
