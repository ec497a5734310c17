// Parses an OTLP/JSON body (UTF-8, an object at the root) with messages that name what the sender got wrong.
import { AppError } from "@trellis/runtime";
import { readObject, type JsonObject } from "./json-values.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseJsonBody(body: Uint8Array, message: string, rootField: string): JsonObject {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new AppError("BAD_REQUEST", "JSON body is not valid UTF-8 (was a protobuf body sent with Content-Type: application/json?)");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("BAD_REQUEST", `JSON body: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`, { cause: error });
  }
  if (Array.isArray(parsed)) throw new AppError("BAD_REQUEST", `JSON body: the request must be an object, got []`);
  const request = readObject(parsed, "the request");
  if (!request) throw new AppError("BAD_REQUEST", `JSON body: expected an ${message} object ({ "${rootField}": [...] }), got null`);
  return request;
}
