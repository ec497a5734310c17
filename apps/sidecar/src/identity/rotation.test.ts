import { describe, expect, it } from "vitest";
import { computeRenewalDelay } from "./rotation.ts";

describe("computeRenewalDelay", () => {
  const receivedAt = new Date("2026-11-24T10:00:00Z");

  it("renews at half of the life left when the certificate arrived", () => {
    expect(computeRenewalDelay({ receivedAt, notAfter: new Date("2026-11-24T11:00:00Z") })).toBe(30 * 60_000);
    expect(computeRenewalDelay({ receivedAt, notAfter: new Date("2026-11-24T10:00:04Z") })).toBe(2_000);
  });

  it("never retries faster than every half second, even for an already expired certificate", () => {
    expect(computeRenewalDelay({ receivedAt, notAfter: new Date("2026-11-24T10:00:00.200Z") })).toBe(500);
    expect(computeRenewalDelay({ receivedAt, notAfter: new Date("2026-11-24T09:00:00Z") })).toBe(500);
  });
});
