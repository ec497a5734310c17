// The OTLP common messages read straight off the wire: KeyValue lists into attribute objects (AnyValue of every
// type, nested arrays and maps), and the name of an InstrumentationScope. Values map as everywhere in the package:
// int64 → number when safe, else its decimal string; non-finite doubles → strings; bytes → base64.
// Protobuf merge rules hold: a message field sent twice is merged (a repeated AnyValue.array_value grows), and the
// last member of a oneof wins.
import type { AttributeValue, Attributes } from "../span-record.ts";
import { toAttributeNumber } from "../common/numbers.ts";
import { FIXED64, LENGTH, VARINT, type WireReader } from "./wire-reader.ts";

/** Field 1 of KeyValue, KeyValueList, ArrayValue and InstrumentationScope; field 2 of KeyValue. */
const KEY = 1;
const VALUE = 2;
const VALUES = 1;

// AnyValue members.
const STRING_VALUE = 1;
const BOOL_VALUE = 2;
const INT_VALUE = 3;
const DOUBLE_VALUE = 4;
const ARRAY_VALUE = 5;
const KVLIST_VALUE = 6;
const BYTES_VALUE = 7;

/** Own property even for "__proto__", which must stay data (as Object.fromEntries would make it). */
export function setAttribute(attributes: Attributes, key: string, value: AttributeValue): void {
  if (key === "__proto__") Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
  else attributes[key] = value;
}

/** One KeyValue (the reader is at its length) into `attributes`; a later duplicate key replaces the value. */
export function readKeyValue(r: WireReader, attributes: Attributes, depth: number): void {
  const outer = r.enter(depth);
  let key = "";
  let value: AttributeValue = null;
  while (r.pos < r.limit) {
    const tag = r.tag();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === KEY && wireType === LENGTH) key = r.string();
    else if (field === VALUE && wireType === LENGTH) value = readAnyValue(r, value, depth + 1);
    else r.skip(wireType, depth, field);
  }
  r.leave(outer);
  setAttribute(attributes, key, value);
}

/**
 * One AnyValue. `current` is the value already decoded for the same field (null when none): a second occurrence
 * of the field merges into it, so the same array or map keeps growing and a scalar member replaces it.
 */
export function readAnyValue(r: WireReader, current: AttributeValue, depth: number): AttributeValue {
  const outer = r.enter(depth);
  let value = current;
  while (r.pos < r.limit) {
    const tag = r.tag();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === STRING_VALUE && wireType === LENGTH) value = r.string();
    else if (field === BOOL_VALUE && wireType === VARINT) value = r.bool();
    else if (field === INT_VALUE && wireType === VARINT) value = r.int64Value();
    else if (field === DOUBLE_VALUE && wireType === FIXED64) value = toAttributeNumber(r.double());
    else if (field === ARRAY_VALUE && wireType === LENGTH) value = readArrayValue(r, Array.isArray(value) ? value : [], depth + 1);
    else if (field === KVLIST_VALUE && wireType === LENGTH) value = readKeyValueList(r, isMap(value) ? value : {}, depth + 1);
    else if (field === BYTES_VALUE && wireType === LENGTH) value = r.base64();
    else r.skip(wireType, depth, field);
  }
  r.leave(outer);
  return value;
}

function isMap(value: AttributeValue): value is Attributes {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readArrayValue(r: WireReader, values: AttributeValue[], depth: number): AttributeValue[] {
  const outer = r.enter(depth);
  while (r.pos < r.limit) {
    const tag = r.tag();
    if (tag === ((VALUES << 3) | LENGTH)) values.push(readAnyValue(r, null, depth + 1));
    else r.skip(tag & 7, depth, tag >>> 3);
  }
  r.leave(outer);
  return values;
}

function readKeyValueList(r: WireReader, attributes: Attributes, depth: number): Attributes {
  const outer = r.enter(depth);
  while (r.pos < r.limit) {
    const tag = r.tag();
    if (tag === ((VALUES << 3) | LENGTH)) readKeyValue(r, attributes, depth + 1);
    else r.skip(tag & 7, depth, tag >>> 3);
  }
  r.leave(outer);
  return attributes;
}

/** A Resource (attributes, field 1) into `attributes`: a resource sent twice is merged, as protobuf says. */
export function readResource(r: WireReader, attributes: Attributes, depth: number): void {
  const outer = r.enter(depth);
  while (r.pos < r.limit) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LENGTH)) readKeyValue(r, attributes, depth + 1);
    else if (tag === ((2 << 3) | VARINT)) r.uint32(); // dropped_attributes_count
    else r.skip(tag & 7, depth, tag >>> 3);
  }
  r.leave(outer);
}

/**
 * The name of an InstrumentationScope; `current` is the name from an earlier occurrence of the field. Its
 * version and attributes are read (so a malformed one is refused) but not kept.
 */
export function readScopeName(r: WireReader, current: string, depth: number): string {
  const outer = r.enter(depth);
  let name = current;
  const ignored: Attributes = {};
  while (r.pos < r.limit) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LENGTH)) name = r.string();
    else if (tag === ((2 << 3) | LENGTH)) r.skipString(); // version
    else if (tag === ((3 << 3) | LENGTH)) readKeyValue(r, ignored, depth + 1);
    else if (tag === ((4 << 3) | VARINT)) r.uint32(); // dropped_attributes_count
    else r.skip(tag & 7, depth, tag >>> 3);
  }
  r.leave(outer);
  return name;
}
