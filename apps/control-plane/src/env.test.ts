// The control plane's own settings in env.ts beyond the mesh CA's (those are in ca/settings.test.ts).
import { describe, expect, it } from "vitest";
import { readEnv } from "./env.ts";

const base = { DATABASE_URL: "postgres://localhost/trellis" };

describe("TRELLIS_DISCONNECT_GRACE", () => {
  it("defaults to 10 s and takes Istio durations, 0s removing a disconnected workload at once", () => {
    expect(readEnv(base).TRELLIS_DISCONNECT_GRACE).toBe(10_000);
    expect(readEnv({ ...base, TRELLIS_DISCONNECT_GRACE: "300ms" }).TRELLIS_DISCONNECT_GRACE).toBe(300);
    expect(readEnv({ ...base, TRELLIS_DISCONNECT_GRACE: "1m30s" }).TRELLIS_DISCONNECT_GRACE).toBe(90_000);
    expect(readEnv({ ...base, TRELLIS_DISCONNECT_GRACE: "0s" }).TRELLIS_DISCONNECT_GRACE).toBe(0);
  });

  it("refuses a value that is not a duration, naming the variable and the syntax", () => {
    expect(() => readEnv({ ...base, TRELLIS_DISCONNECT_GRACE: "10" })).toThrow(
      'invalid control-plane environment: TRELLIS_DISCONNECT_GRACE: "10" is not a duration; use Istio syntax like 2s or 250ms (0s removes a disconnected workload at once)',
    );
  });
});
