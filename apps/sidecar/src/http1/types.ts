// What the proxy's HTTP/1.1 handlers use of a request and a response: Node's IncomingMessage / ServerResponse
// satisfy it (the forward proxy, and connections handed to Node's server), and so does the engine's own pair
// (server.ts), so one handler serves both.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";

export type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type

export type Http1Request = {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  httpVersion: string;
  httpVersionMajor: number;
  socket: Socket;
  /** The whole body has been received. */
  complete: boolean;
  readableLength: number;
  readableEnded: boolean;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
  resume(): unknown;
  pause(): unknown;
  destroy(): unknown;
}

export type Http1Response = {
  statusCode: number;
  headersSent: boolean;
  writableFinished: boolean;
  destroyed: boolean;
  shouldKeepAlive: boolean;
  writeHead(status: number, reason?: string | OutgoingHttpHeaders, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  destroy(): unknown;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

export type Http1Handler = (req: Http1Request, res: Http1Response) => void;
