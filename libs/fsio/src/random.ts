// A small seeded PRNG (mulberry32) so that every simulated crash can be replayed from its seed.
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n]. */
export function upTo(rnd: Random, n: number): number {
  return Math.floor(rnd() * (n + 1));
}

export function shuffle<T>(rnd: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = upTo(rnd, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
