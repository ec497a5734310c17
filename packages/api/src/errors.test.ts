// The error mapping every procedure goes through: codes, what the user reads, and what is logged.
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "@trellis/runtime";
import { toTRPCError } from "./errors.ts";

function collect() {
  const logged: unknown[] = [];
  return { logged, log: (_message: string, error: unknown) => void logged.push(error) };
}

describe("toTRPCError", () => {
  it("keeps a 4xx AppError's message and maps its code", () => {
    const { logged, log } = collect();
    const error = toTRPCError(new AppError("NOT_FOUND", "no service named billing in namespace default"), "services.get", log);
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe("no service named billing in namespace default");
    expect(logged).toEqual([]);
  });

  it("maps an AppError wrapped by tRPC the same way", () => {
    const cause = new AppError("CONFLICT", "policy reviews/default changed since you loaded it; reload and apply again");
    const error = toTRPCError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause }), "policies.apply", collect().log);
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toMatch(/reload and apply again/);
  });

  it("maps UNAVAILABLE to SERVICE_UNAVAILABLE and logs it", () => {
    const { logged, log } = collect();
    const cause = new AppError("UNAVAILABLE", "cannot reach Postgres at 127.0.0.1:5432/trellis");
    const error = toTRPCError(cause, "services.list", log);
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(logged).toEqual([cause]);
  });

  it("hides an internal error's message from the user and logs it in full", () => {
    const { logged, log } = collect();
    const cause = new Error('relation "spans" does not exist at character 42');
    const error = toTRPCError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause }), "services.list", log);
    expect(error.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error.message).not.toMatch(/relation/);
    expect(error.message).toMatch(/internal error/);
    expect(logged).toHaveLength(1);
  });

  it("hides an INTERNAL AppError's message too", () => {
    const error = toTRPCError(new AppError("INTERNAL", "span row 17 has a negative duration"), "topology.graph", collect().log);
    expect(error.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error.message).not.toMatch(/span row/);
  });

  it("says which input field was wrong and why", () => {
    const parsed = z.object({ windowSeconds: z.number().min(10, "must be at least 10") }).safeParse({ windowSeconds: 1 });
    if (parsed.success) throw new Error("expected the schema to reject the input");
    const error = toTRPCError(new TRPCError({ code: "BAD_REQUEST", cause: parsed.error }), "services.list", collect().log);
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("invalid input: windowSeconds: must be at least 10");
  });

  it("passes other client errors through unchanged", () => {
    const original = new TRPCError({ code: "NOT_FOUND", message: 'no procedure "services.nope"' });
    expect(toTRPCError(original, "services.nope", collect().log)).toBe(original);
  });
});
