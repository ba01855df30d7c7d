/**
 * A tiny seeded PRNG (mulberry32). The emulator's tenant and its fault dice must be reproducible
 * from a seed, which `Math.random` cannot give.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  /** A random (version 4 layout) GUID drawn from this generator. */
  guid(): string;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)] as T;
    },
    chance: (probability) => next() < probability,
    guid: () => {
      // Sixteen draws of int(0, 255) in order (the seeded tenants' ids depend on it), formatted
      // through a table: large tenants draw a guid per user, device and method.
      let out = '';
      for (let i = 0; i < 16; i += 1) {
        let byte = int(0, 255);
        if (i === 6) byte = (byte & 0x0f) | 0x40;
        else if (i === 8) byte = (byte & 0x3f) | 0x80;
        if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
        out += HEX[byte];
      }
      return out;
    },
  };
}
