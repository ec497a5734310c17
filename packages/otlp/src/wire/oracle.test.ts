// The wire decoders must behave exactly as the protobufjs decoding they replaced: on generated requests full of
// edge cases (testing/random-otlp.ts) and on mutations of them, both yield the same records — or both refuse the
// body with BAD_REQUEST. protobufjs (testing/protobufjs-oracle) is the oracle: schema-driven, long used.
import { isAppError } from "@trellis/runtime";
import { describe, expect, it } from "vitest";
import { decodeLogsRequest } from "../logs/decode-logs-request.ts";
import { decodeMetricsRequest } from "../metrics/decode-metrics-request.ts";
import { ProtobufWriter } from "../encode/protobuf-writer.ts";
import { mutate } from "../testing/mutate-protobuf.ts";
import { decodeLogsWithProtobufjs, decodeMetricsWithProtobufjs, decodeTracesWithProtobufjs } from "../testing/protobufjs-oracle/index.ts";
import { createRandom, type Random } from "../testing/random.ts";
import { makeRandomLogsRequest, makeRandomMetricsRequest, makeRandomTraceRequest } from "../testing/random-otlp.ts";
import { decodeTraceRequest } from "../trace/decode-trace-request.ts";

type Outcome = { refused: false; result: unknown } | { refused: true };

/** The decoder's result, or `refused` for BAD_REQUEST; anything else thrown is a bug and fails the test. */
function outcome(decode: () => unknown): Outcome {
  try {
    return { refused: false, result: decode() };
  } catch (error) {
    if (isAppError(error) && error.code === "BAD_REQUEST") return { refused: true };
    throw error;
  }
}

const signals = [
  { signal: "traces", seed: 11, make: makeRandomTraceRequest, wire: (body: Uint8Array) => decodeTraceRequest(body, "protobuf"), oracle: decodeTracesWithProtobufjs },
  { signal: "logs", seed: 12, make: makeRandomLogsRequest, wire: (body: Uint8Array) => decodeLogsRequest(body, "protobuf"), oracle: decodeLogsWithProtobufjs },
  { signal: "metrics", seed: 13, make: makeRandomMetricsRequest, wire: (body: Uint8Array) => decodeMetricsRequest(body, "protobuf"), oracle: decodeMetricsWithProtobufjs },
] as const;

const REQUESTS = 1500;
const MUTATIONS = 4;

describe.each(signals)("the $signal wire decoder against protobufjs", ({ seed, make, wire, oracle }) => {
  it(`agrees on ${REQUESTS} generated requests and ${MUTATIONS} mutations of each`, { timeout: 120_000 }, () => {
    const random: Random = createRandom(seed);
    const counts = { records: 0, refusedRequests: 0, refused: 0, decodedMutations: 0 };
    const compare = (body: Uint8Array, what: string): Outcome => {
      const expected = outcome(() => oracle(body));
      const actual = outcome(() => wire(body));
      expect(actual, `${what}: ${Buffer.from(body).toString("base64")}`).toStrictEqual(expected);
      return actual;
    };
    for (let i = 0; i < REQUESTS; i += 1) {
      const body = make(random);
      const generated = compare(body, `request ${i}`);
      // Generated requests are valid protobuf; a few carry invalid UTF-8 in a string, which refuses the body.
      if (generated.refused) counts.refusedRequests += 1;
      else counts.records += Object.values(generated.result as Record<string, unknown[]>)[0]?.length ?? 0;
      for (let m = 0; m < MUTATIONS; m += 1) {
        const mutated = compare(Buffer.from(mutate(body, random)), `request ${i} mutation ${m}`);
        if (mutated.refused) counts.refused += 1;
        else counts.decodedMutations += 1;
      }
    }
    // Every path must have been exercised, or the comparison proves little.
    expect(counts.records).toBeGreaterThan(REQUESTS);
    expect(counts.refusedRequests).toBeGreaterThan(0);
    expect(counts.refusedRequests).toBeLessThan(REQUESTS / 10);
    expect(counts.refused).toBeGreaterThan(REQUESTS / 2);
    expect(counts.decodedMutations).toBeGreaterThan(REQUESTS / 2);
  });
});

describe("the nesting limit", () => {
  /** A span whose one attribute is an array nested `levels` deep. */
  function nestedSpan(levels: number): Uint8Array {
    const w = new ProtobufWriter();
    const open: number[] = [w.begin(1), w.begin(2), w.begin(2)]; // ResourceSpans, ScopeSpans, Span
    w.hex(1, "5b8efff798038103d269b633813fc60c");
    w.hex(2, "eee19b7ec3c1b174");
    w.tag(7, 1);
    w.fixed64(1, 0);
    open.push(w.begin(9), w.begin(2)); // KeyValue, AnyValue
    for (let i = 0; i < levels; i += 1) open.push(w.begin(5), w.begin(1)); // ArrayValue, AnyValue
    w.string(1, "bottom");
    for (let at = open.pop(); at !== undefined; at = open.pop()) w.end(at);
    return Buffer.from(w.finish());
  }

  it("is protobufjs's (100 messages deep), refused the same way on both sides of it", () => {
    const outcomes = [44, 46, 47, 48, 50].map((levels) => {
      const body = nestedSpan(levels);
      const actual = outcome(() => decodeTraceRequest(body, "protobuf"));
      expect(actual).toStrictEqual(outcome(() => decodeTracesWithProtobufjs(body)));
      return actual.refused;
    });
    expect(outcomes).toEqual([false, false, false, true, true]);
  });
});
