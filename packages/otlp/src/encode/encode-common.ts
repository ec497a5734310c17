// OTLP common messages written straight to protobuf: attributes (KeyValue/AnyValue of every value type the
// OpenTelemetry SDK's serializers accept), and the Resource and InstrumentationScope fields, encoded once per
// exporter and copied into every batch. Value mapping follows @opentelemetry/otlp-transformer's toAnyValue.
import { ProtobufWriter, VARINT, FIXED64 } from "./protobuf-writer.ts";

/** Attribute values as the SDK holds them (bytes and maps are accepted on the wire even though the API refuses them). */
export type EncodableValue = string | number | boolean | Uint8Array | null | undefined | readonly EncodableValue[] | { readonly [key: string]: EncodableValue };

export type EncodableAttributes = { readonly [key: string]: EncodableValue };

/** A Resource field (tag included), made by encodeResource; copied as is into each request. */
export type EncodedResource = { readonly field: Uint8Array };

/** An InstrumentationScope field (tag included), made by encodeScope. */
export type EncodedScope = { readonly field: Uint8Array };

// AnyValue fields (opentelemetry/proto/common/v1/common.proto).
const STRING_VALUE = 1;
const BOOL_VALUE = 2;
const INT_VALUE = 3;
const DOUBLE_VALUE = 4;
const ARRAY_VALUE = 5;
const KVLIST_VALUE = 6;
const BYTES_VALUE = 7;
// KeyValue, ArrayValue.values and KeyValueList.values.
const KEY = 1;
const VALUE = 2;
const VALUES = 1;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** `field` as a length-delimited AnyValue. null and undefined become an empty AnyValue, as the SDK writes them. */
export function writeAnyValue(w: ProtobufWriter, field: number, value: EncodableValue): void {
  const at = w.begin(field);
  writeAnyValueBody(w, value);
  w.end(at);
}

function writeAnyValueBody(w: ProtobufWriter, value: EncodableValue): void {
  switch (typeof value) {
    case "string":
      w.string(STRING_VALUE, value);
      return;
    case "number":
      writeNumberValue(w, value);
      return;
    case "boolean":
      w.tag(BOOL_VALUE, VARINT);
      w.uint32(value ? 1 : 0);
      return;
    default:
      break;
  }
  if (value === null || value === undefined) return;
  if (value instanceof Uint8Array) {
    w.bytes(BYTES_VALUE, value);
    return;
  }
  if (isArray(value)) {
    const at = w.begin(ARRAY_VALUE);
    for (const item of value) writeAnyValue(w, VALUES, item);
    w.end(at);
    return;
  }
  const at = w.begin(KVLIST_VALUE);
  writeKeyValues(w, VALUES, value);
  w.end(at);
}

/** An AnyValue's number: int64 when it fits (2^53 and beyond included, as the SDK's serializer does), else double. */
function writeNumberValue(w: ProtobufWriter, value: number): void {
  if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
    w.tag(INT_VALUE, VARINT);
    w.int64(value);
  } else {
    w.tag(DOUBLE_VALUE, FIXED64);
    w.double(value);
  }
}

function isArray(value: EncodableValue): value is readonly EncodableValue[] {
  return Array.isArray(value);
}

// Attribute keys repeat on every record (the same ~25 names): their encoded KeyValue.key field is made once.
// Bounded, so a sender with unbounded key names only loses the shortcut.
const KEY_CACHE_LIMIT = 2048;
const keyFields = new Map<string, Uint8Array>();

function keyField(key: string): Uint8Array | undefined {
  const cached = keyFields.get(key);
  if (cached !== undefined || keyFields.size >= KEY_CACHE_LIMIT) return cached;
  const encoded = encodeKeyField(key);
  keyFields.set(key, encoded);
  return encoded;
}

function encodeKeyField(key: string): Uint8Array {
  const w = new ProtobufWriter(key.length * 3 + 8);
  w.string(KEY, key);
  return Uint8Array.from(w.finish());
}

/**
 * An attribute name with its KeyValue.key bytes made once, for senders that write the same names on every record
 * straight from their own data (no attributes object, no cache lookup).
 */
export type AttributeKey = { readonly name: string; readonly field: Uint8Array };

export function attributeKey(name: string): AttributeKey {
  return { name, field: encodeKeyField(name) };
}

/** Where a sender's attributes go, one at a time: into a batch being encoded, or into a plain object. */
export type AttributeSink = {
  string: (key: AttributeKey, value: string) => void;
  number: (key: AttributeKey, value: number) => void;
};

/** One KeyValue with a string value, as repeated field `field` (Span.attributes is 9, LogRecord.attributes 6). */
export function writeStringAttribute(w: ProtobufWriter, field: number, key: AttributeKey, value: string): void {
  const at = w.begin(field);
  w.raw(key.field);
  const v = w.begin(VALUE);
  w.string(STRING_VALUE, value);
  w.end(v);
  w.end(at);
}

/** One KeyValue with a number value: int64 when it is an integer, double otherwise (as writeAnyValue). */
export function writeNumberAttribute(w: ProtobufWriter, field: number, key: AttributeKey, value: number): void {
  const at = w.begin(field);
  w.raw(key.field);
  const v = w.begin(VALUE);
  writeNumberValue(w, value);
  w.end(v);
  w.end(at);
}

/** An AttributeSink that collects into an object, in the order the attributes come (tests, test hooks). */
export class AttributeRecord implements AttributeSink {
  readonly values: Record<string, string | number> = {};

  string(key: AttributeKey, value: string): void {
    this.values[key.name] = value;
  }

  number(key: AttributeKey, value: number): void {
    this.values[key.name] = value;
  }
}

/** Every own key of `attributes` as a repeated KeyValue `field`, in insertion order. */
export function writeKeyValues(w: ProtobufWriter, field: number, attributes: EncodableAttributes): void {
  const keys = Object.keys(attributes);
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i] as string;
    const at = w.begin(field);
    const encodedKey = keyField(key);
    if (encodedKey === undefined) w.string(KEY, key);
    else w.raw(encodedKey);
    writeAnyValue(w, VALUE, attributes[key]);
    w.end(at);
  }
}

/** The Resource of every request an exporter sends, as field `field` of ResourceSpans / ResourceLogs (both 1). */
export function encodeResource(attributes: EncodableAttributes, droppedAttributesCount = 0, field = 1): EncodedResource {
  const w = new ProtobufWriter(1024);
  const at = w.begin(field);
  writeKeyValues(w, 1, attributes);
  if (droppedAttributesCount > 0) {
    w.tag(2, VARINT);
    w.uint32(droppedAttributesCount);
  }
  w.end(at);
  return { field: Uint8Array.from(w.finish()) };
}

/** The InstrumentationScope, as field 1 of ScopeSpans / ScopeLogs. */
export function encodeScope(name: string, version?: string, attributes?: EncodableAttributes): EncodedScope {
  const w = new ProtobufWriter(256);
  const at = w.begin(1);
  if (name !== "") w.string(1, name);
  if (version !== undefined && version !== "") w.string(2, version);
  if (attributes !== undefined) writeKeyValues(w, 3, attributes);
  w.end(at);
  return { field: Uint8Array.from(w.finish()) };
}
