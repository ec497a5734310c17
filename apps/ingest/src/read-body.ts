// Reads a request body into memory with the size limit applied to both the bytes on the wire and, for gzip,
// the decompressed bytes (a few KiB of gzip can expand to gigabytes).
import type { IncomingMessage } from "node:http";
import { createGunzip } from "node:zlib";
import { AppError } from "@trellis/runtime";

export type ReadBodyOptions = { maxBytes: number };

export function readBody(req: IncomingMessage, { maxBytes }: ReadBodyOptions): Promise<Buffer> {
  const gzip = isGzip(req.headers["content-encoding"]);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes, "Content-Length"));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let wireBytes = 0;
    let bodyBytes = 0;
    let settled = false;
    const gunzip = gzip ? createGunzip() : undefined;
    const finish = (error: AppError | undefined) => {
      if (settled) return;
      settled = true;
      req.off("data", onWireData);
      // Stop reading; the caller answers and closes the connection instead of draining a body it refused.
      req.pause();
      gunzip?.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, bodyBytes));
    };
    const onBodyData = (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (bodyBytes > maxBytes) return finish(tooLarge(maxBytes, gzip ? "after gzip decompression" : undefined));
      chunks.push(chunk);
    };
    const onWireData = (chunk: Buffer) => {
      wireBytes += chunk.length;
      if (wireBytes > maxBytes) return finish(tooLarge(maxBytes));
      if (gunzip) gunzip.write(chunk);
      else onBodyData(chunk);
    };
    req.on("data", onWireData);
    req.on("error", () => finish(incomplete()));
    req.on("close", () => {
      if (!req.complete) finish(incomplete());
    });
    if (gunzip) {
      gunzip.on("data", onBodyData);
      gunzip.on("error", (error) => finish(new AppError("BAD_REQUEST", `the gzip body could not be decompressed: ${error.message}`, { cause: error })));
      gunzip.on("end", () => finish(undefined));
      req.on("end", () => {
        if (!settled) gunzip.end();
      });
    } else {
      req.on("end", () => finish(undefined));
    }
  });
}

function isGzip(header: string | undefined): boolean {
  const encoding = (header ?? "").trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return false;
  if (encoding === "gzip" || encoding === "x-gzip") return true;
  throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding "${encoding}" is not supported; send the body uncompressed or with Content-Encoding: gzip`);
}

function tooLarge(maxBytes: number, where?: string): AppError {
  return new AppError(
    "PAYLOAD_TOO_LARGE",
    `the request body is larger than ${maxBytes} bytes${where ? ` (${where})` : ""}; export smaller batches or raise TRELLIS_INGEST_MAX_BODY_BYTES`,
  );
}

function incomplete(): AppError {
  return new AppError("BAD_REQUEST", "the connection closed before the request body was complete");
}

/**
 * Reads and drops what is left of a body that was refused before it was read, up to `maxBytes`: closing a
 * socket with unread data makes the kernel send a reset, and the client would see that instead of the answer.
 * Resolves false when the rest is too large or too slow; the caller then closes the connection.
 */
export function discardBody(req: IncomingMessage, maxBytes: number): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  const declared = Number(req.headers["content-length"]);
  if (req.destroyed || (Number.isFinite(declared) && declared > maxBytes)) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const done = (drained: boolean) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      if (!drained) req.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) done(false);
    };
    const onEnd = () => done(true);
    const onClose = () => done(req.complete);
    const timer = setTimeout(() => done(false), 5_000);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
    req.resume();
  });
}
