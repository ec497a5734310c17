// Turns protobufjs-decoded OTLP common values (KeyValue, AnyValue, int64/fixed64 Longs, bytes) into the
// internal attribute values: int64 → number when it is safe, else its decimal string; bytes → base64.
import type { AttributeValue, Attributes } from "../../span-record.ts";
import type { WireAnyValue, WireBytes, WireKeyValue, WireLong } from "./schema.ts";
import { cleanString } from "../../common/clean-string.ts";
import { toAttributeNumber, toAttributeInteger } from "../../common/numbers.ts";

export function longToUnsigned(value: WireLong): bigint {
  if (typeof value === "number") return BigInt(Math.trunc(value));
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

export function longToSigned(value: WireLong): bigint {
  return BigInt.asIntN(64, longToUnsigned(value));
}

export function bytesToHex(bytes: WireBytes): string {
  return toBuffer(bytes).toString("hex");
}

function toBuffer(bytes: WireBytes): Buffer {
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Buffer.from(Array.from(bytes));
}

export function toAttributes(keyValues: readonly WireKeyValue[]): Attributes {
  // fromEntries defines own properties, so a "__proto__" key stays data instead of changing the prototype.
  return Object.fromEntries(keyValues.map((kv) => [cleanString(kv.key), toAttributeValue(kv.value)]));
}

export function toAttributeValue(value: WireAnyValue | null | undefined): AttributeValue {
  switch (value?.value) {
    case "stringValue":
      return cleanString(value.stringValue ?? "");
    case "boolValue":
      return value.boolValue ?? false;
    case "intValue":
      return toAttributeInteger(longToSigned(value.intValue ?? 0));
    case "doubleValue":
      return toAttributeNumber(value.doubleValue ?? 0);
    case "arrayValue":
      return (value.arrayValue?.values ?? []).map(toAttributeValue);
    case "kvlistValue":
      return toAttributes(value.kvlistValue?.values ?? []);
    case "bytesValue":
      return toBuffer(value.bytesValue ?? []).toString("base64");
    default:
      return null;
  }
}
