// Open-loop, fixed-rate scheduling math for the load generator, kept pure so it can be tested without timers:
// request k is due at start + k/rps, whatever happened to the requests before it.

export type RateSchedule = { rps: number; startMs: number; issued: number };

export type TickPlan = {
  /** Requests to start now. */
  send: number;
  /** Requests whose time passed long ago (the process was stalled); dropped rather than sent in one burst. */
  missed: number;
  schedule: RateSchedule;
};

export function createSchedule(rps: number, startMs: number): RateSchedule {
  if (!(rps > 0)) throw new RangeError(`rps must be positive, got ${rps}`);
  return { rps, startMs, issued: 0 };
}

/** How many requests are due by `nowMs` (request 0 is due at the start). */
export function countDue(schedule: RateSchedule, nowMs: number): number {
  const elapsed = nowMs - schedule.startMs;
  if (elapsed < 0) return 0;
  // Integer arithmetic in microseconds keeps k/rps boundaries exact for the rates people type (10, 2.5, 1000).
  return Math.floor(Math.round(elapsed * 1000) / Math.round(1_000_000 / schedule.rps)) + 1;
}

/** What to send at `nowMs`: everything due, but at most one second's worth; the rest is counted as missed. */
export function planTick(schedule: RateSchedule, nowMs: number): TickPlan {
  const due = countDue(schedule, nowMs);
  const behind = Math.max(0, due - schedule.issued);
  const maxBurst = Math.max(1, Math.ceil(schedule.rps));
  const send = Math.min(behind, maxBurst);
  return { send, missed: behind - send, schedule: { ...schedule, issued: Math.max(schedule.issued, due) } };
}

/** Milliseconds from `nowMs` until the next request is due (0 if it already is). */
export function delayUntilNext(schedule: RateSchedule, nowMs: number): number {
  const intervalUs = Math.round(1_000_000 / schedule.rps);
  const nextDueMs = schedule.startMs + (schedule.issued * intervalUs) / 1000;
  return Math.max(0, Math.ceil(nextDueMs - nowMs));
}

/** In-flight cap: enough for two seconds of latency at this rate, within sane bounds. */
export function maxInFlight(rps: number): number {
  return Math.min(256, Math.max(8, Math.ceil(rps * 2)));
}
