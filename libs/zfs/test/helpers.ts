// Shared test helpers: a seeded PRNG (so every failing crash run can be replayed from its seed) and
// deterministic data patterns.
export type Rng = () => number;

export function rng(seed: number): Rng {
  let s = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
export function between(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** n pseudo-random bytes, the same for the same seed. */
export function pattern(seed: number, n: number): Buffer {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = (Math.imul(seed, 2654435761) + 1) >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, n);
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
