// A seeded mutation fuzz of the decoders: whatever arrives, decoding either yields storable records or throws
// AppError("BAD_REQUEST") — never another exception, never a hang.
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import { isAppError } from "@trellis/runtime";
import { makeExoticSpan, makeSdkSpans } from "../testing/sdk-spans.ts";
import { decodeTraceRequest, type OtlpFormat } from "./decode-trace-request.ts";

/** mulberry32: small, seedable, good enough to pick mutations reproducibly. */
function createRandom(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

function mutate(body: Uint8Array, random: (below: number) => number): Uint8Array {
  const bytes = Array.from(body);
  const rounds = 1 + random(4);
  for (let round = 0; round < rounds; round += 1) {
    const at = random(bytes.length + 1);
    switch (random(6)) {
      case 0: // flip bits of one byte
        if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << random(8));
        break;
      case 1: // overwrite with a random byte (often a new tag or length)
        if (at < bytes.length) bytes[at] = random(256);
        break;
      case 2: // insert random bytes
        bytes.splice(at, 0, ...Array.from({ length: 1 + random(8) }, () => random(256)));
        break;
      case 3: // delete a range
        bytes.splice(at, 1 + random(16));
        break;
      case 4: // truncate
        bytes.length = at;
        break;
      default: // duplicate a slice somewhere else
        bytes.splice(random(bytes.length + 1), 0, ...bytes.slice(at, at + 1 + random(32)));
    }
  }
  return Uint8Array.from(bytes);
}

// Escapes JSON.stringify leaves in text that Postgres text/jsonb would refuse.
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

async function fuzz(format: OtlpFormat, iterations: number, seed: number): Promise<{ decoded: number; refused: number }> {
  const serializer = format === "protobuf" ? ProtobufTraceSerializer : JsonTraceSerializer;
  const valid = serializer.serializeRequest([...(await makeSdkSpans()), makeExoticSpan()]);
  if (!valid) throw new Error("serializer returned nothing");
  const random = createRandom(seed);
  const counts = { decoded: 0, refused: 0 };
  for (let i = 0; i < iterations; i += 1) {
    const body = mutate(valid, random);
    let result: ReturnType<typeof decodeTraceRequest>;
    try {
      result = decodeTraceRequest(body, format);
    } catch (error) {
      if (!isAppError(error) || error.code !== "BAD_REQUEST") {
        throw new Error(`iteration ${i} (seed ${seed}) threw a non-AppError: ${String(error)}; body ${Buffer.from(body).toString("base64")}`, { cause: error });
      }
      counts.refused += 1;
      continue;
    }
    counts.decoded += 1;
    for (const span of result.spans) {
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect([0, 1, 2, 3, 4, 5]).toContain(span.kind);
      expect([0, 1, 2]).toContain(span.statusCode);
      expect(span.startTimeUnixNano > 0n && span.endTimeUnixNano >= span.startTimeUnixNano && span.endTimeUnixNano < 2n ** 63n).toBe(true);
    }
    const stored = JSON.stringify(result.spans, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    expect(stored).not.toMatch(UNSTORABLE_ESCAPE);
  }
  return counts;
}

describe("decodeTraceRequest under random mutation", () => {
  it("protobuf: 4000 mutated bodies decode or fail with BAD_REQUEST", async () => {
    const counts = await fuzz("protobuf", 4000, 20260101);
    // Both outcomes must actually occur, or the fuzz is not exercising anything.
    expect(counts.decoded).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(100);
  });

  it("json: 1500 mutated bodies decode or fail with BAD_REQUEST", async () => {
    const counts = await fuzz("json", 1500, 7);
    expect(counts.decoded).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(100);
  });
});
