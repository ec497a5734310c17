import { describe, expect, it } from "vitest";
import { countDue, createSchedule, delayUntilNext, maxInFlight, planTick, type RateSchedule } from "./schedule.ts";

describe("countDue", () => {
  it("has the first request due at the start and one more every 1/rps", () => {
    const s = createSchedule(10, 1000);
    expect(countDue(s, 999)).toBe(0);
    expect(countDue(s, 1000)).toBe(1);
    expect(countDue(s, 1099)).toBe(1);
    expect(countDue(s, 1100)).toBe(2);
    expect(countDue(s, 2000)).toBe(11);
  });

  it("is exact at boundaries for rates that do not divide a second", () => {
    const s = createSchedule(3, 0);
    expect(countDue(s, 1000 / 3)).toBe(2);
    expect(countDue(s, 60_000)).toBe(181);
  });

  it("supports fractional rates", () => {
    expect(countDue(createSchedule(0.5, 0), 3999)).toBe(2);
    expect(countDue(createSchedule(0.5, 0), 4000)).toBe(3);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => createSchedule(0, 0)).toThrow(/rps must be positive/);
  });
});

describe("planTick", () => {
  it("sends what is due and remembers it", () => {
    let s: RateSchedule = createSchedule(10, 0);
    const first = planTick(s, 0);
    expect(first).toMatchObject({ send: 1, missed: 0 });
    s = first.schedule;
    expect(planTick(s, 50).send).toBe(0);
    const later = planTick(s, 350);
    expect(later).toMatchObject({ send: 3, missed: 0 });
    expect(planTick(later.schedule, 350).send).toBe(0);
  });

  it("sends a fixed number over a window whatever the tick times", () => {
    let s = createSchedule(25, 0);
    let sent = 0;
    for (let now = 0; now <= 10_000; now += 7) {
      const plan = planTick(s, now);
      s = plan.schedule;
      sent += plan.send + plan.missed;
    }
    expect(sent).toBe(countDue(createSchedule(25, 0), 9996));
  });

  it("caps a catch-up burst at one second's worth and counts the rest as missed", () => {
    const s = createSchedule(10, 0);
    const plan = planTick(s, 5000);
    expect(plan).toMatchObject({ send: 10, missed: 41 });
    expect(plan.schedule.issued).toBe(51);
  });
});

describe("delayUntilNext", () => {
  it("waits until the next request is due, never negative", () => {
    const s = planTick(createSchedule(10, 0), 0).schedule;
    expect(delayUntilNext(s, 0)).toBe(100);
    expect(delayUntilNext(s, 40)).toBe(60);
    expect(delayUntilNext(s, 250)).toBe(0);
  });

  it("lands on a time where the next request is due", () => {
    const s = planTick(createSchedule(3, 0), 0).schedule;
    const wait = delayUntilNext(s, 0);
    expect(planTick(s, wait).send).toBe(1);
  });
});

describe("maxInFlight", () => {
  it("allows two seconds of latency at the rate, within bounds", () => {
    expect(maxInFlight(1)).toBe(8);
    expect(maxInFlight(10)).toBe(20);
    expect(maxInFlight(10_000)).toBe(256);
  });
});
