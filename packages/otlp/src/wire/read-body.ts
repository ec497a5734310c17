// Runs a wire reader over a request body and turns a malformed body into the 400 the sender needs: which message
// could not be read, what was wrong and at which offset, and a hint when the body is really JSON.
import { AppError } from "@trellis/runtime";
import { WireFormatError, WireReader } from "./wire-reader.ts";

export function readBody<T>(body: Uint8Array, message: string, read: (r: WireReader) => T): T {
  try {
    return read(new WireReader(body));
  } catch (error) {
    // Only the reader's own errors are the body's fault; anything else is a bug and must surface as one.
    if (!(error instanceof WireFormatError)) throw error;
    throw new AppError("BAD_REQUEST", `protobuf body is not an ${message}: ${error.message}${hintForFormat(body)}`, { cause: error });
  }
}

function hintForFormat(body: Uint8Array): string {
  const first = body.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  return first === 0x7b ? " (the body looks like JSON; send it with Content-Type: application/json)" : "";
}
