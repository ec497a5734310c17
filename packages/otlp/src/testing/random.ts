// Test helpers: a seedable random source (mulberry32: small, reproducible, good enough to pick test inputs), so
// every generated or mutated input can be rebuilt from its seed when a test fails.

export type Random = {
  /** An integer in [0, below). */
  below: (below: number) => number;
  /** True with probability `p`. */
  chance: (p: number) => boolean;
  pick: <T>(items: readonly T[]) => T;
};

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const below = (n: number): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  return {
    below,
    chance: (p) => below(1_000_000) < p * 1_000_000,
    pick: (items) => items[below(items.length)] as (typeof items)[number],
  };
}
