// A seeded mutation fuzz of the logs decoder: whatever arrives, decoding either yields storable, valid log records
// or throws AppError("BAD_REQUEST") — never another exception, never a hang (see testing/fuzz-decoder.ts).
import { ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import { fuzzDecoder, isStorable, makeDeeplyNestedRequest, type Nesting } from "../testing/fuzz-decoder.ts";
import { createRandom } from "../testing/random.ts";
import { makeRandomLogsRequest } from "../testing/random-otlp.ts";
import { makeSdkLogs } from "../testing/sdk-logs.ts";
import { decodeLogsRequest } from "./decode-logs-request.ts";
import type { DecodedLogs } from "./log-record.ts";

function checkLogs({ logs }: DecodedLogs): void {
  for (const log of logs) {
    expect(log.traceId === null || /^[0-9a-f]{32}$/.test(log.traceId)).toBe(true);
    expect(log.spanId === null || /^[0-9a-f]{16}$/.test(log.spanId)).toBe(true);
    expect(log.severityNumber >= 0 && log.severityNumber <= 24).toBe(true);
    expect(log.timeUnixNano > 0n && log.timeUnixNano < 2n ** 63n && log.observedTimeUnixNano < 2n ** 63n).toBe(true);
  }
  expect(isStorable(logs)).toBe(true);
}

describe("decodeLogsRequest under random mutation", () => {
  it("protobuf: 20,000 mutated bodies decode or fail with BAD_REQUEST", { timeout: 120_000 }, () => {
    const sdkBody = ProtobufLogsSerializer.serializeRequest(makeSdkLogs());
    if (!sdkBody) throw new Error("serializer returned nothing");
    const random = createRandom(6);
    const bodies = [sdkBody, ...Array.from({ length: 5 }, () => makeRandomLogsRequest(random))];
    const counts = fuzzDecoder({ bodies, decode: (body) => decodeLogsRequest(body, "protobuf"), check: checkLogs, iterations: 20_000, seed: 20260102 });
    expect(counts.decoded).toBeGreaterThan(2_000);
    expect(counts.refused).toBeGreaterThan(2_000);
  });

  it.each(["arrays", "maps", "groups"] satisfies Nesting[])("protobuf: %s nested up to 5000 deep are decoded up to the limit, refused past it", (nesting) => {
    for (const levels of [1, 10, 30, 120, 200, 5000]) {
      const decode = () => decodeLogsRequest(makeDeeplyNestedRequest(levels, nesting), "protobuf");
      if (levels <= 30) expect(decode().rejectedLogRecords).toBe(0);
      else expect(decode).toThrow(/^protobuf body is not an ExportLogsServiceRequest: messages nest deeper than 100 levels/);
    }
  });
});
