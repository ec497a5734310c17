// Test helper: random OTLP export requests (traces, logs, metrics) written field by field, for checking the wire
// decoders against the protobufjs oracle. Beyond what SDKs send, they carry what a decoder must still get right:
// every AnyValue type nested in arrays and maps, fields in any order, singular fields sent twice (last wins, messages
// merge), oneofs with two members, known fields with the wrong wire type, unknown fields of every wire type
// (groups included), packed and unpacked repeated numbers, empty and missing fields, invalid UTF-8, NUL, int64
// extremes, NaN and infinities, and ids and times that validation must reject.
import { FIXED32, FIXED64, ProtobufWriter, VARINT } from "../encode/protobuf-writer.ts";
import type { Random } from "./random.ts";

/** `invalidUtf8`: whether this request may carry invalid UTF-8 in a string (which refuses the whole body). */
type Gen = { w: ProtobufWriter; random: Random; invalidUtf8: boolean };

function createGen(random: Random): Gen {
  return { w: new ProtobufWriter(4096), random, invalidUtf8: random.chance(0.03) };
}
type Field = () => void;

const KEYS = ["service.name", "service.namespace", "service.version", "http.response.status_code", "http.status_code", "a", "b", "", "__proto__", "0", "nul\u0000key", "ключ"];
const TEXTS = ["", "GET", "checkout", "ünïcödé", "emoji 🚀", "nul\u0000byte", "lone \ud800 surrogate", "x".repeat(150), "404", "503", "1.4.2"];
const INVALID_UTF8 = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x9a], [0x61, 0x80, 0x62]];
const INT64S = [0n, 1n, -1n, 200n, 503n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)];
const DOUBLES = [0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, 5e-324, 503, -2.5];
const TIMES = [0n, 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const ENUMS = [0n, 1n, 2n, 3n, 4n, 5n, 7n, 24n, 30n, -1n, 2n ** 32n + 2n];

function message(g: Gen, field: number, body: () => void): void {
  const at = g.w.begin(field);
  body();
  g.w.end(at);
}

/** A varint of any 64-bit value (negative ones as two's complement, ten bytes). */
function varint(g: Gen, field: number, value: bigint): void {
  g.w.tag(field, VARINT);
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (v > 127n) {
    bytes.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  bytes.push(Number(v));
  g.w.raw(Uint8Array.from(bytes));
}

function fixed64(g: Gen, field: number, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  g.w.tag(field, FIXED64);
  g.w.fixed64(Number(v & 0xffffffffn), Number(v >> 32n));
}

function fixed32(g: Gen, field: number, value: number): void {
  g.w.tag(field, FIXED32);
  g.w.fixed32(value);
}

function double(g: Gen, field: number, value: number): void {
  g.w.tag(field, FIXED64);
  g.w.double(value);
}

function sint32(g: Gen, field: number, value: number): void {
  varint(g, field, BigInt(((value << 1) ^ (value >> 31)) >>> 0));
}

function text(g: Gen, field: number, pool: readonly string[] = TEXTS): void {
  if (g.invalidUtf8 && g.random.chance(0.05)) g.w.bytes(field, Uint8Array.from(g.random.pick(INVALID_UTF8)));
  else g.w.string(field, g.random.pick(pool));
}

function randomBytes(g: Gen, length: number, zero = false): Uint8Array {
  return Uint8Array.from({ length }, () => (zero ? 0 : g.random.below(256)));
}

/** An id of `size` bytes, mostly valid; sometimes empty, all zero or of the wrong length. */
function id(g: Gen, field: number, size: number): void {
  const roll = g.random.below(40);
  if (roll === 0) g.w.bytes(field, new Uint8Array());
  else if (roll === 1) g.w.bytes(field, randomBytes(g, size, true));
  else if (roll === 2) g.w.bytes(field, randomBytes(g, size + g.random.pick([-1, 1, 5])));
  else g.w.bytes(field, randomBytes(g, size));
}

/** A time: mostly now-ish, `after` a given time when there is one; sometimes 0 or past int64. */
function time(g: Gen, field: number, after = 1_767_225_600_000_000_000n): void {
  fixed64(g, field, g.random.chance(0.05) ? g.random.pick(TIMES) : after + BigInt(g.random.below(1_000_000_000)));
}

/**
 * An unknown field of any wire type (groups nested a little), or a known field number with a wire type other than
 * length-delimited (which is skipped when it is not the field's own, and is a valid value when it is).
 */
function unknown(g: Gen, known: readonly number[], depth = 0): void {
  const reuse = g.random.chance(0.3) && known.length > 0;
  const field = reuse ? g.random.pick(known) : g.random.pick([17, 29, 100, 1000, 268_435_455]);
  const wireType = g.random.below(5);
  switch (reuse && wireType === 2 ? 0 : wireType) {
    case 0:
      varint(g, field, g.random.pick(INT64S));
      break;
    case 1:
      fixed64(g, field, BigInt(g.random.below(2 ** 30)));
      break;
    case 2:
      g.w.bytes(field, randomBytes(g, g.random.below(6)));
      break;
    case 3:
      g.w.tag(field, 3);
      if (depth < 3) for (let i = g.random.below(3); i > 0; i -= 1) unknown(g, [], depth + 1);
      g.w.tag(field, 4);
      break;
    default:
      fixed32(g, field, g.random.below(2 ** 30));
  }
}

/** Writes `fields` in random order, some twice, some left out, with unknown fields in between. */
function fields(g: Gen, known: readonly number[], list: readonly Field[]): void {
  const order = [...list];
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = g.random.below(i + 1);
    [order[i], order[j]] = [order[j] as Field, order[i] as Field];
  }
  for (const write of order) {
    if (g.random.chance(0.08)) unknown(g, known);
    if (g.random.chance(0.1)) continue;
    write();
    if (g.random.chance(0.08)) write();
  }
}

function repeat(g: Gen, max: number, write: () => void): Field {
  return () => {
    for (let i = g.random.below(max + 1); i > 0; i -= 1) write();
  };
}

function anyValue(g: Gen, field: number, depth: number): void {
  message(g, field, () => {
    const members = depth > 3 ? g.random.below(2) : g.random.pick([0, 1, 1, 1, 2]);
    for (let i = 0; i < members; i += 1) {
      switch (g.random.below(depth > 3 ? 5 : 7)) {
        case 0:
          text(g, 1);
          break;
        case 1:
          varint(g, 2, g.random.pick([0n, 1n, 2n, 2n ** 32n]));
          break;
        case 2:
          varint(g, 3, g.random.chance(0.5) ? BigInt(g.random.below(1000)) : g.random.pick(INT64S));
          break;
        case 3:
          double(g, 4, g.random.pick(DOUBLES));
          break;
        case 4:
          g.w.bytes(7, randomBytes(g, g.random.below(5)));
          break;
        case 5:
          message(g, 5, repeat(g, 3, () => anyValue(g, 1, depth + 1)));
          break;
        default:
          message(g, 6, repeat(g, 3, () => keyValue(g, 1, depth + 1)));
      }
    }
    if (g.random.chance(0.05)) unknown(g, [1, 2, 3]);
  });
}

function keyValue(g: Gen, field: number, depth: number): void {
  message(g, field, () => fields(g, [1, 2], [() => text(g, 1, KEYS), () => anyValue(g, 2, depth + 1)]));
}

function attributes(g: Gen, field: number, max: number): Field {
  return repeat(g, max, () => keyValue(g, field, 0));
}

function resource(g: Gen): void {
  message(g, 1, () => fields(g, [1, 2], [attributes(g, 1, 4), () => varint(g, 2, BigInt(g.random.below(3)))]));
}

function scope(g: Gen): void {
  message(g, 1, () => fields(g, [1, 2, 3, 4], [() => text(g, 1), () => text(g, 2), attributes(g, 3, 2), () => varint(g, 4, 1n)]));
}

/** ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span (with events, links and status). */
export function makeRandomTraceRequest(random: Random): Uint8Array {
  const g = createGen(random);
  const span = () =>
    message(g, 2, () => {
      const start = 1_767_225_600_000_000_000n + BigInt(random.below(1_000_000_000));
      fields(g, [1, 2, 4, 5, 6, 7, 8, 9, 15], [
        () => id(g, 1, 16),
        () => id(g, 2, 8),
        () => text(g, 3),
        () => (random.chance(0.5) ? id(g, 4, 8) : g.w.bytes(4, randomBytes(g, 8, true))),
        () => text(g, 5),
        () => varint(g, 6, random.pick(ENUMS)),
        () => time(g, 7, start),
        () => time(g, 8, start + 1_000_000_000n),
        attributes(g, 9, 6),
        () => varint(g, 10, 2n),
        repeat(g, 2, () => message(g, 11, () => fields(g, [1, 2, 3], [() => time(g, 1), () => text(g, 2), attributes(g, 3, 2), () => varint(g, 4, 1n)]))),
        () => varint(g, 12, 1n),
        repeat(g, 2, () =>
          message(g, 13, () => fields(g, [1, 2, 3, 4], [() => id(g, 1, 16), () => id(g, 2, 8), () => text(g, 3), attributes(g, 4, 2), () => varint(g, 5, 1n), () => fixed32(g, 6, 1)])),
        ),
        () => varint(g, 14, 3n),
        () => message(g, 15, () => fields(g, [2, 3], [() => text(g, 2), () => varint(g, 3, random.pick(ENUMS))])),
        () => fixed32(g, 16, random.below(512)),
      ]);
    });
  const scopeSpans = () => message(g, 2, () => fields(g, [1, 2, 3], [() => scope(g), repeat(g, 5, span), () => text(g, 3)]));
  const resourceSpans = () => message(g, 1, () => fields(g, [1, 2, 3], [() => resource(g), repeat(g, 3, scopeSpans), () => text(g, 3)]));
  repeat(g, 3, resourceSpans)();
  return Buffer.from(g.w.finish());
}

/** ExportLogsServiceRequest → ResourceLogs → ScopeLogs → LogRecord. */
export function makeRandomLogsRequest(random: Random): Uint8Array {
  const g = createGen(random);
  const record = () =>
    message(g, 2, () =>
      fields(g, [1, 2, 3, 5, 9, 10, 11], [
        () => time(g, 1),
        () => varint(g, 2, random.pick(ENUMS)),
        () => text(g, 3),
        () => anyValue(g, 5, 0),
        attributes(g, 6, 6),
        () => varint(g, 7, 1n),
        () => fixed32(g, 8, 1),
        () => (random.chance(0.3) ? g.w.bytes(9, new Uint8Array()) : id(g, 9, 16)),
        () => (random.chance(0.3) ? g.w.bytes(10, new Uint8Array()) : id(g, 10, 8)),
        () => time(g, 11),
        () => text(g, 12),
      ]),
    );
  const scopeLogs = () => message(g, 2, () => fields(g, [1, 2, 3], [() => scope(g), repeat(g, 5, record), () => text(g, 3)]));
  const resourceLogs = () => message(g, 1, () => fields(g, [1, 2, 3], [() => resource(g), repeat(g, 3, scopeLogs), () => text(g, 3)]));
  repeat(g, 3, resourceLogs)();
  return Buffer.from(g.w.finish());
}

/** Repeated numbers, packed in one run or one field each. */
function numbers(g: Gen, field: number, count: number, packedWireType: number, write: () => void): void {
  if (g.random.chance(0.5)) {
    message(g, field, () => {
      for (let i = 0; i < count; i += 1) write();
    });
    return;
  }
  for (let i = 0; i < count; i += 1) {
    g.w.tag(field, packedWireType);
    write();
  }
}

function count(g: Gen): bigint {
  return g.random.chance(0.1) ? g.random.pick([0n, 2n ** 53n + 1n, 2n ** 60n + 7n]) : BigInt(g.random.below(1000));
}

/** ExportMetricsServiceRequest → ResourceMetrics → ScopeMetrics → Metric with every data kind. */
export function makeRandomMetricsRequest(random: Random): Uint8Array {
  const g = createGen(random);
  const common = (attributesField: number): Field[] => [attributes(g, attributesField, 3), () => time(g, 2), () => time(g, 3)];
  const numberPoint = () =>
    message(g, 1, () =>
      fields(g, [2, 3, 4, 6, 7], [
        ...common(7),
        () => double(g, 4, random.pick(DOUBLES)),
        () => fixed64(g, 6, random.pick(INT64S)),
        () => varint(g, 8, 1n),
      ]),
    );
  const histogramPoint = () =>
    message(g, 1, () => {
      const bounds = random.below(4);
      fields(g, [2, 3, 4, 5, 6, 7, 9], [
        ...common(9),
        () => fixed64(g, 4, count(g)),
        () => double(g, 5, random.pick(DOUBLES)),
        () => numbers(g, 6, random.chance(0.9) ? bounds + 1 : bounds, FIXED64, () => g.w.fixed64(random.below(100), 0)),
        () => numbers(g, 7, bounds, FIXED64, () => g.w.double(random.below(1000) / 4)),
        () => varint(g, 10, 0n),
        () => double(g, 11, random.pick(DOUBLES)),
        () => double(g, 12, random.pick(DOUBLES)),
      ]);
    });
  const buckets = (field: number) =>
    message(g, field, () =>
      fields(g, [1, 2], [
        () => sint32(g, 1, random.pick([0, -3, 7, -(2 ** 31), 2 ** 31 - 1])),
        () => numbers(g, 2, random.below(4), VARINT, () => g.w.int64(Number(count(g) % 2n ** 50n))),
      ]),
    );
  const exponentialPoint = () =>
    message(g, 1, () =>
      fields(g, [1, 2, 3, 4, 6, 7, 8, 9], [
        ...common(1),
        () => fixed64(g, 4, count(g)),
        () => double(g, 5, random.pick(DOUBLES)),
        () => sint32(g, 6, random.pick([0, -2, 3, 20, -10])),
        () => fixed64(g, 7, count(g)),
        () => buckets(8),
        () => buckets(9),
        () => varint(g, 10, 0n),
        () => double(g, 12, random.pick(DOUBLES)),
        () => double(g, 13, random.pick(DOUBLES)),
        () => double(g, 14, 0.001),
      ]),
    );
  const summaryPoint = () =>
    message(g, 1, () =>
      fields(g, [2, 3, 4, 5], [...common(7), () => fixed64(g, 4, count(g)), () => double(g, 5, random.pick(DOUBLES)), () => message(g, 6, () => double(g, 1, 0.5)), () => varint(g, 8, 0n)]),
    );
  const temporality = () => varint(g, 2, random.pick([0n, 1n, 2n, 5n, -1n]));
  const data = [
    () => message(g, 5, () => fields(g, [1], [repeat(g, 3, numberPoint), () => varint(g, 2, 1n)])),
    () => message(g, 7, () => fields(g, [1, 2, 3], [repeat(g, 3, numberPoint), temporality, () => varint(g, 3, random.pick([0n, 1n, 2n ** 40n]))])),
    () => message(g, 9, () => fields(g, [1, 2], [repeat(g, 3, histogramPoint), temporality, () => varint(g, 3, 1n)])),
    () => message(g, 10, () => fields(g, [1, 2], [repeat(g, 3, exponentialPoint), temporality])),
    () => message(g, 11, () => fields(g, [1], [repeat(g, 3, summaryPoint), temporality])),
  ];
  const metric = () =>
    message(g, 2, () =>
      fields(g, [1, 2, 3, 5, 7, 9, 10, 11], [
        () => text(g, 1, random.chance(0.9) ? ["istio_requests_total", "latency", "ünït"] : TEXTS),
        () => text(g, 2),
        () => text(g, 3),
        repeat(g, 2, () => random.pick(data)()),
      ]),
    );
  const scopeMetrics = () => message(g, 2, () => fields(g, [1, 2, 3], [() => scope(g), repeat(g, 4, metric), () => text(g, 3)]));
  const resourceMetrics = () => message(g, 1, () => fields(g, [1, 2, 3], [() => resource(g), repeat(g, 3, scopeMetrics), () => text(g, 3)]));
  repeat(g, 3, resourceMetrics)();
  return Buffer.from(g.w.finish());
}
