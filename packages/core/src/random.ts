/**
 * Seeded randomness. One seed drives parameter initialisation, data shuffling and dropout: each
 * consumer takes its own stream with {@link Rng.fork}, so adding a consumer never shifts another's
 * numbers. The generator is xoshiro128** (Blackman & Vigna 2018) seeded through SplitMix32, in
 * plain 32-bit integer arithmetic: the same seed gives the same numbers on every backend and machine.
 */

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a string, for seeds given as text and for fork labels. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The position of an {@link Rng}: its seed, the four xoshiro128** state words and the spare normal
 * deviate, if one is waiting. Plain JSON (every field an integer or a double), so a training
 * checkpoint can carry it; {@link Rng.fromState} continues the stream exactly where it was.
 */
export interface RngState {
  /** The seed the generator was made from (forks derive theirs from it). */
  seed: number;
  /** xoshiro128** state words a, b, c, d (unsigned 32-bit integers). */
  words: [number, number, number, number];
  /** The second deviate of the last polar-method pair, when {@link Rng.normal} has one waiting. */
  spareNormal?: number;
}

/** A deterministic random number generator. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;
  /** The seed this generator was made from (forks record their derived seed). */
  readonly seed: number;

  constructor(seed: number | string = 0) {
    this.seed = typeof seed === 'string' ? hashString(seed) : seed >>> 0;
    const next = splitmix32(this.seed);
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** This generator's position (a copy): {@link Rng.fromState} of it draws what this one draws next. */
  state(): RngState {
    return { seed: this.seed, words: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0], ...(this.spareNormal !== undefined ? { spareNormal: this.spareNormal } : {}) };
  }

  /**
   * A generator at a saved position ({@link Rng.state}): it continues that stream, and its forks are
   * those of a generator with the same seed. Throws on words that are not unsigned 32-bit integers
   * or are all zero (not a reachable xoshiro128** state).
   */
  static fromState(state: RngState): Rng {
    const words = state?.words;
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError(`Rng.fromState: words must be four unsigned 32-bit integers, got ${JSON.stringify(words)}`);
    }
    if (words.every((w) => w === 0)) throw new RangeError('Rng.fromState: an all-zero state is not a xoshiro128** state');
    if (!Number.isInteger(state.seed) || state.seed < 0 || state.seed > 0xffffffff) throw new RangeError(`Rng.fromState: seed must be an unsigned 32-bit integer, got ${state.seed}`);
    if (state.spareNormal !== undefined && !Number.isFinite(state.spareNormal)) throw new RangeError(`Rng.fromState: spareNormal must be a finite number, got ${state.spareNormal}`);
    const rng = new Rng(state.seed);
    [rng.a, rng.b, rng.c, rng.d] = words;
    rng.spareNormal = state.spareNormal;
    return rng;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Marsaglia's polar method). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * m;
        return u * m;
      }
    }
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    // Rejection sampling removes modulo bias.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A 31-bit integer, for APIs that take a numeric seed (e.g. tf.randomUniform). */
  seedInt(): number {
    return this.nextUint32() >>> 1;
  }

  /** An independent generator for one consumer, derived from this one's seed and a label. */
  fork(label: string): Rng {
    return new Rng((Math.imul(this.seed ^ hashString(label), 0x9e3779b1) ^ hashString(`${label}#${this.seed}`)) >>> 0);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** Fills `out` with uniform values in [low, high). */
  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    const span = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + span * this.uniform();
    return out;
  }

  /** Fills `out` with normal values of the given mean and standard deviation. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fills `out` with a normal truncated to two standard deviations (resampled), as Keras does. */
  fillTruncatedNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) {
      let z = this.normal();
      while (Math.abs(z) > 2) z = this.normal();
      out[i] = mean + std * z;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
