// Reconnect delays for the config stream: exponential so a down control plane is not hammered, capped so a
// sidecar notices it is back within seconds, jittered so a whole mesh does not reconnect in lockstep.

export type BackoffOptions = { baseMs: number; capMs: number; random?: () => number };

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, capMs: 5_000 };

/** Delay before reconnect attempt `attempt` (0 for the first retry): "equal jitter", in [ceiling/2, ceiling). */
export function computeBackoff(attempt: number, { baseMs, capMs, random = Math.random }: BackoffOptions): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
