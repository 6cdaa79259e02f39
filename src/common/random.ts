/**
 * Seeded pseudo-random numbers: the same seed gives the same sequence on every machine.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit
 * state, passes PractRand), seeded from the SHA-256 of the seed's text, so that any string
 * or number is a seed and nearby seeds give unrelated streams. Only integer arithmetic is
 * used, so results do not depend on the platform's floating-point library.
 *
 *   const rng = createRng('scenes:1:image:42');
 *   rng.next();           // float in [0, 1)
 *   rng.int(6);           // integer in 0..5
 *   rng.shuffle([1, 2, 3]);
 */
import { createHash } from 'crypto';

export type Seed = number | string;

/** Anything indexable and writable: arrays and typed arrays. */
export interface MutableList {
  length: number;
  [index: number]: unknown;
}

export interface Rng {
  /** Uniform float in [0, 1) with 32 random bits. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** Shuffles `items` (an array or a typed array) in place (Fisher-Yates) and returns it. */
  shuffle<A extends MutableList>(items: A): A;
  /** A new independent generator derived from this one's seed and a label. */
  fork(label: Seed): Rng;
}

/** Four 32-bit words from the SHA-256 of the seed's canonical text. */
function seedWords(seed: Seed): [number, number, number, number] {
  const digest = createHash('sha256').update(`rng:${typeof seed}:${String(seed)}`).digest();
  return [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)];
}

/** A seeded generator; `createRng(s)` twice gives the same sequence. */
export function createRng(seed: Seed): Rng {
  let [a, b, c, d] = seedWords(seed);
  const nextUint32 = (): number => {
    // sfc32: all operations on unsigned 32-bit integers.
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Discard the first outputs so that the state is well mixed.
  for (let i = 0; i < 12; i++) nextUint32();

  const rng: Rng = {
    next: () => nextUint32() / 4294967296,
    int(n) {
      if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
        throw new Error(`rng.int(n): n must be a whole number in 1..2^32, got ${n}`);
      }
      // Rejection sampling removes the modulo bias.
      const limit = 4294967296 - (4294967296 % n);
      let x = nextUint32();
      while (x >= limit) x = nextUint32();
      return x % n;
    },
    uniform: (lo, hi) => lo + (hi - lo) * rng.next(),
    chance: (p) => rng.next() < p,
    pick(items) {
      if (items.length === 0) throw new Error('rng.pick: the list is empty');
      return items[rng.int(items.length)];
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
    fork: (label) => createRng(`${String(seed)}/${String(label)}`),
  };
  return rng;
}

/** The permutation 0..n-1 shuffled by `seed`, as an Int32Array. */
export function seededPermutation(n: number, seed: Seed): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  return Int32Array.from(createRng(seed).shuffle(order));
}
