import { describe, expect, it } from "vitest";
import { readEnv } from "./env.ts";

describe("readEnv", () => {
  it("applies the defaults, treating empty variables as unset", () => {
    expect(readEnv({ DATABASE_URL: "postgresql://127.0.0.1/trellis", TRELLIS_INGEST_PORT: "" })).toEqual({
      DATABASE_URL: "postgresql://127.0.0.1/trellis",
      TRELLIS_INGEST_PORT: 4318,
      TRELLIS_INGEST_HOST: "127.0.0.1",
      TRELLIS_INGEST_MAX_BODY_BYTES: 16 * 1024 * 1024,
    });
  });

  it("reads numbers from strings", () => {
    const env = readEnv({ DATABASE_URL: "postgresql://db/trellis", TRELLIS_INGEST_PORT: "14318", TRELLIS_INGEST_MAX_BODY_BYTES: "1024" });
    expect(env.TRELLIS_INGEST_PORT).toBe(14318);
    expect(env.TRELLIS_INGEST_MAX_BODY_BYTES).toBe(1024);
  });

  it("names every invalid variable", () => {
    expect(() => readEnv({ TRELLIS_INGEST_PORT: "http" })).toThrow(/^invalid environment: TRELLIS_INGEST_PORT .*; DATABASE_URL is required/);
  });
});
