import { describe, expect, it } from "vitest";
import { readEnv } from "./env.ts";

describe("readEnv", () => {
  it("applies the defaults, treating empty variables as unset", () => {
    expect(readEnv({ DATABASE_URL: "postgresql://127.0.0.1/trellis", TRELLIS_INGEST_PORT: "", TRELLIS_INGEST_TOKEN: "" })).toEqual({
      DATABASE_URL: "postgresql://127.0.0.1/trellis",
      TRELLIS_INGEST_PORT: 4318,
      TRELLIS_INGEST_GRPC_PORT: 4317,
      TRELLIS_INGEST_HOST: "127.0.0.1",
      TRELLIS_INGEST_MAX_BODY_BYTES: 16 * 1024 * 1024,
      TRELLIS_INGEST_TOKEN: undefined,
      TRELLIS_RETENTION_DAYS: 7,
      TRELLIS_INGEST_QUEUE_ITEMS: 100_000,
      TRELLIS_INGEST_WRITERS: 4,
    });
  });

  it("reads numbers from strings and keeps the token", () => {
    const env = readEnv({
      DATABASE_URL: "postgresql://db/trellis",
      TRELLIS_INGEST_PORT: "14318",
      TRELLIS_INGEST_GRPC_PORT: "0",
      TRELLIS_INGEST_MAX_BODY_BYTES: "1024",
      TRELLIS_INGEST_TOKEN: "s3cret",
      TRELLIS_RETENTION_DAYS: "30",
      TRELLIS_INGEST_QUEUE_ITEMS: "5000",
      TRELLIS_INGEST_WRITERS: "6",
    });
    expect(env).toMatchObject({
      TRELLIS_INGEST_PORT: 14318,
      TRELLIS_INGEST_GRPC_PORT: 0,
      TRELLIS_INGEST_MAX_BODY_BYTES: 1024,
      TRELLIS_INGEST_TOKEN: "s3cret",
      TRELLIS_RETENTION_DAYS: 30,
      TRELLIS_INGEST_QUEUE_ITEMS: 5000,
      TRELLIS_INGEST_WRITERS: 6,
    });
  });

  it("names every invalid variable", () => {
    expect(() => readEnv({ TRELLIS_INGEST_PORT: "http" })).toThrow(/^invalid environment: TRELLIS_INGEST_PORT .*; DATABASE_URL is required/);
    expect(() => readEnv({ DATABASE_URL: "postgresql://db/trellis", TRELLIS_INGEST_WRITERS: "0", TRELLIS_RETENTION_DAYS: "1.5" })).toThrow(
      /^invalid environment: TRELLIS_RETENTION_DAYS .*; TRELLIS_INGEST_WRITERS /,
    );
  });
});
