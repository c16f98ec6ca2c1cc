/**
 * A small, fast, seeded pseudo-random generator: sfc32 (Chris Doty-Humphrey's "small fast
 * chaotic" generator from PractRand), seeded the way PractRand seeds it. It passes PractRand and
 * BigCrush, needs only 32-bit integer arithmetic, and the same seed gives the same sequence on
 * every platform — which is what makes the seed data reproducible byte for byte.
 *
 * @module
 */

/** A deterministic random source. */
export interface Prng {
  /** The next 32-bit unsigned integer. */
  uint32(): number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
}

/**
 * Creates an sfc32 generator equal to PractRand's `sfc32` seeded with the 64-bit value
 * `stream * 2^32 + seed`. Distinct streams of one seed give independent sequences, so callers can
 * derive a generator per item (for example per flight) instead of threading one through.
 *
 * @example
 * ```ts
 * const prng = createPrng(42);
 * prng.uint32(); // 1264412219, as PractRand's reference implementation gives
 * ```
 * @throws {RangeError} when `seed` or `stream` is not an integer in [0, 2^32).
 */
export function createPrng(seed: number, stream = 0): Prng {
  for (const [name, value] of [["seed", seed], ["stream", stream]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new RangeError(`${name} must be an integer in [0, 2^32), received ${value}`);
    }
  }
  let a = 0;
  let b = seed >>> 0;
  let c = stream >>> 0;
  let counter = 1;

  const uint32 = (): number => {
    const tmp = (a + b + counter) >>> 0;
    counter = (counter + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (((c << 21) | (c >>> 11)) + tmp) >>> 0;
    return tmp;
  };
  // PractRand discards the first outputs so that similar seeds diverge.
  for (let i = 0; i < 12; i++) uint32();

  const next = () => uint32() / 0x1_0000_0000;
  return {
    uint32,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("pick() needs a non-empty array");
      return items[Math.floor(next() * items.length)] as T;
    },
  };
}
