// A message body arriving off a socket, Readable-like in the parts the proxy uses: 'data' and 'end' events, paused
// until a 'data' listener or resume() (so a handler that looks at the head first loses nothing), `complete` once the
// last byte is in, and backpressure by pausing the socket while nobody reads. Node's Readable does all this and more
// at several times the cost per message.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";

export class BodyStream extends EventEmitter {
  /** The whole body has arrived (it may not all have been emitted yet). */
  complete = false;
  readableEnded = false;
  /** Bytes received and not yet emitted. */
  readableLength = 0;
  protected source: Socket | null;
  private flowing = false;
  private queue: Buffer[] | null = null;
  private ending = false;
  private dropping = false;
  private flushScheduled = false;

  constructor(source: Socket | null) {
    super();
    this.source = source;
  }

  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    super.on(event, listener as (...args: unknown[]) => void);
    if (event === "data" && !this.flowing) this.resume();
    return this;
  }

  /** Body bytes from the socket (null: none, only the end); `last` when the body is complete with them. */
  push(data: Buffer | null, last: boolean): void {
    if (last) this.complete = true;
    if (this.dropping) {
      if (last) this.finishEnd();
      return;
    }
    if (this.flowing && this.queue === null) {
      if (data !== null && data.length > 0) this.emit("data", data);
      if (last) this.finishEnd();
      return;
    }
    if (data !== null && data.length > 0) {
      (this.queue ??= []).push(data);
      this.readableLength += data.length;
    }
    if (last) this.ending = true;
    else if (!this.flowing) this.source?.pause(); // nobody reads yet: stop reading the socket
  }

  resume(): this {
    if (this.flowing) return this;
    this.flowing = true;
    if (!this.flushScheduled && (this.queue !== null || this.ending)) {
      this.flushScheduled = true;
      // Later, as a Readable does: listeners attached right after this call ('end' after 'data') still hear it all.
      process.nextTick(() => this.flush());
    } else if (!this.complete) this.source?.resume();
    return this;
  }

  pause(): this {
    this.flowing = false;
    return this;
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = null;
    if (queue !== null) {
      for (let i = 0; i < queue.length; i += 1) {
        if (!this.flowing) {
          this.queue = queue.slice(i); // paused again by a listener: keep the rest
          return;
        }
        const data = queue[i] as Buffer;
        this.readableLength -= data.length;
        this.emit("data", data);
      }
    }
    if (!this.flowing) return;
    if (this.ending) this.finishEnd();
    else if (!this.complete) this.source?.resume();
  }

  protected finishEnd(): void {
    if (this.readableEnded) return;
    this.ending = false;
    this.readableEnded = true;
    this.emit("end");
  }

  /** Nobody will read the rest: drop it as it arrives (the connection stays usable). */
  drop(): void {
    this.dropping = true;
    this.queue = null;
    this.readableLength = 0;
    if (this.ending || this.complete) this.finishEnd();
    // Once complete, the socket carries the next exchange, whose own body decides whether it reads.
    else this.source?.resume();
  }
}
