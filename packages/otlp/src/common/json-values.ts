// Reading OTLP/JSON field by field with the path of every value, so a malformed body is answered with exactly
// where it is wrong (`resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano must be ...`).
// The OTLP/JSON rules: lowerCamelCase keys, hex ids, enums as integers, int64 as decimal strings or numbers.
import { AppError } from "@trellis/runtime";
import type { AttributeValue, Attributes } from "../span-record.ts";
import { cleanString } from "./clean-string.ts";
import { toAttributeInteger, toAttributeNumber } from "./numbers.ts";

export type JsonObject = Record<string, unknown>;

const MAX_VALUE_DEPTH = 32;
const MAX_UINT64 = 2n ** 64n - 1n;
const INT64_RANGE = [-(2n ** 63n), 2n ** 63n - 1n] as const;

export function badJson(path: string, problem: string): AppError {
  return new AppError("BAD_REQUEST", `JSON body: ${path} ${problem}`);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const snakeNames = new Map<string, string>();

/**
 * OTLP/JSON keys are lowerCamelCase; the proto field names (snake_case) are accepted as well, as the
 * OpenTelemetry Collector does, because hand-written payloads often use them.
 */
export function field(object: JsonObject, camelName: string): unknown {
  if (Object.hasOwn(object, camelName)) return object[camelName];
  let snake = snakeNames.get(camelName);
  if (snake === undefined) {
    snake = camelName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(camelName, snake);
  }
  return Object.hasOwn(object, snake) ? object[snake] : undefined;
}

export function readObject(value: unknown, path: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw badJson(path, `must be an object, got ${describe(value)}`);
  return value as JsonObject;
}

export function readArray(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badJson(path, `must be an array, got ${describe(value)}`);
  return value;
}

export function readString(value: unknown, path: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw badJson(path, `must be a string, got ${describe(value)}`);
  return cleanString(value);
}

function readInteger(value: unknown, path: string, [min, max]: readonly [bigint, bigint], what: string): bigint {
  if (value === undefined || value === null) return 0n;
  let parsed: bigint | undefined;
  if (typeof value === "number" && Number.isInteger(value)) parsed = BigInt(value);
  if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) parsed = BigInt(value);
  if (parsed === undefined || parsed < min || parsed > max) throw badJson(path, `must be ${what}, got ${describe(value)}`);
  return parsed;
}

export function readUint64(value: unknown, path: string): bigint {
  return readInteger(value, path, [0n, MAX_UINT64], "an integer string (unsigned 64-bit, e.g. \"1767225600000000000\")");
}

export function readInt64(value: unknown, path: string): bigint {
  return readInteger(value, path, INT64_RANGE, "an integer string or number (signed 64-bit)");
}

export function readDouble(value: unknown, path: string): number {
  if (typeof value === "number") return value;
  // Proto3 JSON writes non-finite doubles as these strings, and numeric strings are accepted for doubles too.
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  throw badJson(path, `must be a number, got ${describe(value)}`);
}

/** Enums are integers in OTLP/JSON; the enum value names (`SPAN_KIND_SERVER`) are accepted too. */
export function readEnum(value: unknown, path: string, names: Readonly<Record<string, number>>): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && Object.hasOwn(names, value)) return names[value] ?? 0;
  throw badJson(path, `must be an integer or one of ${Object.keys(names).join(", ")}, got ${describe(value)}`);
}

export function readAttributes(value: unknown, path: string, depth = 0): Attributes {
  const entries = readArray(value, path).map((item, i): [string, AttributeValue] => {
    const itemPath = `${path}[${i}]`;
    const keyValue = readObject(item, itemPath) ?? {};
    return [readString(field(keyValue, "key"), `${itemPath}.key`), readAnyValue(field(keyValue, "value"), `${itemPath}.value`, depth)];
  });
  // fromEntries defines own properties, so a "__proto__" key stays data instead of changing the prototype.
  return Object.fromEntries(entries);
}

/** Proto3 JSON: a null field is the same as an absent one (the JS SDK writes `"doubleValue": null` for NaN). */
function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export function readAnyValue(value: unknown, path: string, depth: number): AttributeValue {
  if (depth > MAX_VALUE_DEPTH) throw badJson(path, `nests values deeper than ${MAX_VALUE_DEPTH} levels`);
  const anyValue = readObject(value, path);
  if (!anyValue) return null;
  const stringValue = field(anyValue, "stringValue");
  if (isSet(stringValue)) return readString(stringValue, `${path}.stringValue`);
  const boolValue = field(anyValue, "boolValue");
  if (isSet(boolValue)) {
    if (typeof boolValue !== "boolean") throw badJson(`${path}.boolValue`, `must be true or false, got ${describe(boolValue)}`);
    return boolValue;
  }
  const intValue = field(anyValue, "intValue");
  if (isSet(intValue)) return toAttributeInteger(readInt64(intValue, `${path}.intValue`));
  const doubleValue = field(anyValue, "doubleValue");
  if (isSet(doubleValue)) return toAttributeNumber(readDouble(doubleValue, `${path}.doubleValue`));
  const arrayValue = field(anyValue, "arrayValue");
  if (isSet(arrayValue)) {
    const arrayPath = `${path}.arrayValue.values`;
    const values = field(readObject(arrayValue, `${path}.arrayValue`) ?? {}, "values");
    return readArray(values, arrayPath).map((item, i) => readAnyValue(item, `${arrayPath}[${i}]`, depth + 1));
  }
  const kvlistValue = field(anyValue, "kvlistValue");
  if (isSet(kvlistValue)) {
    const values = field(readObject(kvlistValue, `${path}.kvlistValue`) ?? {}, "values");
    return readAttributes(values, `${path}.kvlistValue.values`, depth + 1);
  }
  const bytesValue = field(anyValue, "bytesValue");
  // OTLP/JSON carries bytes as base64, which is also how they are stored.
  if (isSet(bytesValue)) return readString(bytesValue, `${path}.bytesValue`);
  return null;
}
