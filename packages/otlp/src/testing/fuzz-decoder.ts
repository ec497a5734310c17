// Test helper: the protobuf fuzz loop shared by the three signals' fuzz tests. Every mutated body must either
// decode — and then pass the signal's checks on what it produced — or be refused with AppError("BAD_REQUEST");
// any other exception fails the test with the seed, iteration and body needed to replay it. A hang fails it by the
// test's timeout: the decoders' loops all advance through the body, and nesting is capped, so none is expected.
import { isAppError } from "@trellis/runtime";
import { ProtobufWriter } from "../encode/protobuf-writer.ts";
import { findLengthPrefixes, mutate } from "./mutate-protobuf.ts";
import { createRandom } from "./random.ts";

export type FuzzOptions<T> = {
  /** Valid bodies to mutate. */
  bodies: readonly Uint8Array[];
  decode: (body: Uint8Array) => T;
  /** Assertions on a decoded result (storable strings, valid ids...). */
  check: (result: T) => void;
  iterations: number;
  seed: number;
};

export function fuzzDecoder<T>({ bodies, decode, check, iterations, seed }: FuzzOptions<T>): { decoded: number; refused: number } {
  const random = createRandom(seed);
  const prefixes = bodies.map((body) => findLengthPrefixes(body));
  const counts = { decoded: 0, refused: 0 };
  for (let i = 0; i < iterations; i += 1) {
    const which = random.below(bodies.length);
    const body = Buffer.from(mutate(bodies[which] as Uint8Array, random, prefixes[which]));
    let result: T;
    try {
      result = decode(body);
    } catch (error) {
      if (!isAppError(error) || error.code !== "BAD_REQUEST") {
        throw new Error(`iteration ${i} (seed ${seed}) threw ${String(error)}; body ${body.toString("base64")}`, { cause: error });
      }
      counts.refused += 1;
      continue;
    }
    counts.decoded += 1;
    check(result);
  }
  return counts;
}

export type Nesting = "arrays" | "maps" | "groups";

/**
 * A request of any signal (their field 1 → field 1 → field 1 is resource_* → resource → attributes in all three)
 * whose one resource attribute nests `levels` arrays or maps deep, or whose first field is an unknown group
 * holding `levels` groups.
 */
export function makeDeeplyNestedRequest(levels: number, nesting: Nesting): Uint8Array {
  const w = new ProtobufWriter();
  if (nesting === "groups") {
    for (let i = 0; i < levels; i += 1) w.tag(20, 3);
    for (let i = 0; i < levels; i += 1) w.tag(20, 4);
    return Buffer.from(w.finish());
  }
  const open = [w.begin(1), w.begin(1), w.begin(1)]; // Resource*, Resource, KeyValue
  w.string(1, "deep");
  open.push(w.begin(2)); // AnyValue
  for (let i = 0; i < levels; i += 1) {
    if (nesting === "arrays") open.push(w.begin(5), w.begin(1)); // ArrayValue, AnyValue
    else {
      open.push(w.begin(6), w.begin(1)); // KeyValueList, KeyValue
      w.string(1, "k");
      open.push(w.begin(2)); // AnyValue
    }
  }
  w.string(1, "bottom");
  for (let at = open.pop(); at !== undefined; at = open.pop()) w.end(at);
  return Buffer.from(w.finish());
}

// Escapes JSON.stringify leaves in text that Postgres text/jsonb would refuse.
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

/** Whether every string in `records` can be stored in Postgres text and jsonb (no NUL, no lone surrogate). */
export function isStorable(records: unknown): boolean {
  const json = JSON.stringify(records, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  return !UNSTORABLE_ESCAPE.test(json);
}
